using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using Microsoft.Extensions.Logging;
using NetObserv.Flows;
using NetObserv.Storage.Spill;

namespace NetObserv.Storage.Journal;

/// <summary>
/// The write-ahead journal: accepted batches are appended to segment files in <see cref="Directory"/>
/// (named <c>{first position:D20}.journal</c>, files 0600 in a 0700 folder) before they are acknowledged.
/// <para>
/// Record layout (little-endian): a 28-byte header (magic <c>NOWJ</c>, format version, payload length,
/// record count, position, CRC-32 of the first 24 header bytes and the payload) then the
/// <see cref="SpillCodec"/> payload of the batch. Positions grow by one per batch across segments.
/// </para>
/// <para>
/// Group commit: <see cref="AppendAsync"/> encodes on the caller's thread into a pooled buffer and queues the
/// record; one flusher thread writes every record queued since its last pass and syncs once for all of them
/// (<c>fsync</c> of a new segment file and of its folder, then <c>fdatasync</c> on Linux, see
/// <see cref="FileSync"/>), then completes each caller's task with its position. A task therefore completes
/// only once its batch is on disk. Past <see cref="MaxBytes"/> an append completes at once with 0 (full): the
/// caller answers with backpressure. An I/O error (disk full) faults the tasks of that pass.
/// </para>
/// <para>
/// Every position is <i>outstanding</i> until <see cref="MarkApplied"/> says it is in the database (or was
/// refused there for good); <see cref="Watermark"/> is the highest position with nothing outstanding at or
/// below it, and segments wholly at or below it are deleted. Batches that are in the journal but in no
/// writer's memory (the channel was full, the database down, or they were found at start) are
/// <i>pending</i>: the replayer takes them with <see cref="TakePending"/> and reads them back with
/// <see cref="Read"/>. On open a torn or corrupt tail is cut at the last valid record; everything found is
/// outstanding until <see cref="Recover"/> is told what the database already holds.
/// </para>
/// </summary>
public sealed class FlowJournal : IDisposable
{
    public const string Extension = ".journal";
    public const int HeaderSize = 28;
    public const int FormatVersion = 1;
    public const string IdFile = "journal.id";
    public const string LockFile = "journal.lock";

    private const UnixFileMode FileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode FolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private static ReadOnlySpan<byte> Magic => "NOWJ"u8;

    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly object _queueLock = new();
    private readonly List<Segment> _segments = [];
    private readonly Dictionary<long, Entry> _entries = [];
    private readonly SortedSet<long> _outstanding = [];
    private readonly SortedSet<long> _pending = [];
    private readonly HashSet<long> _unconfirmed = [];
    private readonly Thread _flusher;
    private readonly FileStream _folderLock;
    private List<Append> _queue = [];
    private List<Append> _spare = [];
    private FileStream? _active;
    private Segment? _activeSegment;
    private bool _activeSynced;
    private long _lastPosition;
    private long _bytes;
    private long _reserved;
    private long _fsyncs;
    private long _appends;
    private long _full;
    private long _pendingRecords;
    private bool _disposed;

    /// <summary>Opens (or creates) the journal in <paramref name="directory"/> and checks what a previous run left.</summary>
    public FlowJournal(string directory, long segmentBytes, long maxBytes, ILogger logger)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentNullException.ThrowIfNull(logger);
        Directory = Path.GetFullPath(directory);
        SegmentBytes = Math.Max(HeaderSize + 1, segmentBytes);
        MaxBytes = maxBytes;
        _logger = logger;
        CreateFolder(Directory);
        _folderLock = Lock(Directory);
        Scan();
        Id = ReadOrCreateId();
        _flusher = new Thread(FlushLoop) { IsBackground = true, Name = "netobserv-journal" };
        _flusher.Start();
        JournalLog.Opened(_logger, Directory, _segments.Count, _bytes, _unconfirmed.Count);
    }

    /// <summary>The journal folder.</summary>
    public string Directory { get; }

    /// <summary>Names this journal in <c>journal_applied</c> (kept in <see cref="IdFile"/>).</summary>
    public string Id { get; private set; }

    /// <summary>A segment is closed and a new one begun past this size.</summary>
    public long SegmentBytes { get; }

    /// <summary>Appends fail (full) past this total size of the segment files.</summary>
    public long MaxBytes { get; }

    /// <summary>Bytes in segment files.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>fsync calls since open (one per group of appends).</summary>
    public long Fsyncs => Interlocked.Read(ref _fsyncs);

    /// <summary>Batches appended since open.</summary>
    public long Appends => Interlocked.Read(ref _appends);

    /// <summary>Appends refused because the journal was at <see cref="MaxBytes"/>.</summary>
    public long FullRefusals => Interlocked.Read(ref _full);

    /// <summary>The last position written.</summary>
    public long LastPosition
    {
        get
        {
            lock (_lock)
            {
                return _lastPosition;
            }
        }
    }

    /// <summary>Segment files on disk.</summary>
    public int Segments
    {
        get
        {
            lock (_lock)
            {
                return _segments.Count;
            }
        }
    }

    /// <summary>Batches waiting for the replayer.</summary>
    public int PendingBatches
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count;
            }
        }
    }

    /// <summary>Batches waiting for the replayer, and those left by the previous run not sorted yet (<see cref="Recover"/>).</summary>
    public int WaitingBatches
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count + _unconfirmed.Count;
            }
        }
    }

    /// <summary>The oldest position waiting for the replayer, <see cref="long.MaxValue"/> when none is.</summary>
    public long OldestPending
    {
        get
        {
            lock (_lock)
            {
                return _pending.Count == 0 ? long.MaxValue : _pending.Min;
            }
        }
    }

    /// <summary>Records in the batches waiting for the replayer.</summary>
    public long PendingRecords => Interlocked.Read(ref _pendingRecords);

    /// <summary>Batches written but not yet applied to the database.</summary>
    public int OutstandingBatches
    {
        get
        {
            lock (_lock)
            {
                return _outstanding.Count;
            }
        }
    }

    /// <summary>True until <see cref="Recover"/> has sorted what the previous run left.</summary>
    public bool Recovering
    {
        get
        {
            lock (_lock)
            {
                return _unconfirmed.Count > 0;
            }
        }
    }

    /// <summary>The highest position such that every position at or below it is applied.</summary>
    public long Watermark
    {
        get
        {
            lock (_lock)
            {
                return _outstanding.Count == 0 ? _lastPosition : _outstanding.Min - 1;
            }
        }
    }

    /// <summary>
    /// Appends records [start, start + count) as one batch. Completes with its position once it is on disk,
    /// with 0 at once when the journal is full, or faults on an I/O error.
    /// </summary>
    public Task<long> AppendAsync(List<FlowRecord> records, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(records);
        // Encoded into a pooled buffer; the flusher gives it back once the record is written (or failed).
        var buffer = new SpillBuffer(HeaderSize, count);
        SpillCodec.Encode(ref buffer, records, start, count);
        var length = buffer.Length;
        while (true)
        {
            var reserved = Interlocked.Read(ref _reserved);
            if (Interlocked.Read(ref _bytes) + reserved + length > MaxBytes)
            {
                if (Interlocked.Increment(ref _full) == 1 || Interlocked.Read(ref _full) % 1000 == 0)
                {
                    JournalLog.Full(_logger, Interlocked.Read(ref _bytes), MaxBytes);
                }

                buffer.Return();
                return Task.FromResult(0L);
            }

            if (Interlocked.CompareExchange(ref _reserved, reserved + length, reserved) == reserved)
            {
                break;
            }
        }

        var append = new Append(buffer.Array, length, count);
        lock (_queueLock)
        {
            if (_disposed)
            {
                Interlocked.Add(ref _reserved, -length);
                buffer.Return();
                return Task.FromException<long>(new ObjectDisposedException(nameof(FlowJournal)));
            }

            _queue.Add(append);
            if (_queue.Count == 1)
            {
                Monitor.Pulse(_queueLock);
            }
        }

        return append.Done.Task;
    }

    /// <summary>Hands batches that no writer holds in memory to the replayer.</summary>
    public void Release(long position)
    {
        lock (_lock)
        {
            if (_entries.TryGetValue(position, out var entry) && _outstanding.Contains(position) && _pending.Add(position))
            {
                Interlocked.Add(ref _pendingRecords, entry.Count);
            }
        }
    }

    /// <summary>
    /// Takes pending batches, oldest first, until about <paramref name="maxRecords"/> records (at least one
    /// batch when any is pending). They stay outstanding; give back with <see cref="Release"/> on failure.
    /// </summary>
    public int TakePending(int maxRecords, List<long> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        lock (_lock)
        {
            var records = 0;
            while (_pending.Count > 0)
            {
                var position = _pending.Min;
                var count = _entries[position].Count;
                if (records > 0 && records + count > maxRecords)
                {
                    break;
                }

                _pending.Remove(position);
                Interlocked.Add(ref _pendingRecords, -count);
                into.Add(position);
                records += count;
            }

            return records;
        }
    }

    /// <summary>Reads the batch at <paramref name="position"/> back into <paramref name="into"/>.</summary>
    public void Read(long position, List<FlowRecord> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        Entry entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(position, out entry))
            {
                throw new InvalidOperationException($"journal position {position} is not held");
            }
        }

        var bytes = new byte[HeaderSize + entry.Length];
        using (var file = new FileStream(entry.Segment.Path, System.IO.FileMode.Open, FileAccess.Read,
                   FileShare.ReadWrite | FileShare.Delete, 1))
        {
            file.Position = entry.Offset;
            file.ReadExactly(bytes);
        }

        if (!TryParseHeader(bytes, bytes.Length, out var length, out var count, out var stored) || stored != position
            || length != entry.Length)
        {
            throw new InvalidDataException($"journal record at position {position} no longer checks");
        }

        SpillCodec.Decode(bytes, HeaderSize, count, into);
    }

    /// <summary>Records that the batches are in the database (or refused there for good); deletes segments below the watermark.</summary>
    public void MarkApplied(IReadOnlyList<long> positions)
    {
        ArgumentNullException.ThrowIfNull(positions);
        if (positions.Count == 0)
        {
            return;
        }

        lock (_lock)
        {
            foreach (var position in positions)
            {
                if (_outstanding.Remove(position))
                {
                    if (_pending.Remove(position))
                    {
                        Interlocked.Add(ref _pendingRecords, -_entries[position].Count);
                    }

                    _entries.Remove(position);
                    _unconfirmed.Remove(position);
                }
            }

            DeleteAppliedSegments();
        }
    }

    /// <summary>
    /// Sorts what the previous run left, given what <c>journal_applied</c> says: positions at or below
    /// <paramref name="appliedThrough"/> or in <paramref name="appliedAbove"/> are applied, the others
    /// become pending. Returns the number of pending batches.
    /// </summary>
    public int Recover(long appliedThrough, IReadOnlySet<long> appliedAbove)
    {
        ArgumentNullException.ThrowIfNull(appliedAbove);
        var applied = new List<long>();
        var pending = 0;
        lock (_lock)
        {
            foreach (var position in _unconfirmed)
            {
                if (position <= appliedThrough || appliedAbove.Contains(position))
                {
                    applied.Add(position);
                }
                else if (_pending.Add(position))
                {
                    Interlocked.Add(ref _pendingRecords, _entries[position].Count);
                    pending++;
                }
            }

            _unconfirmed.Clear();
        }

        MarkApplied(applied);
        return pending;
    }

    public void Dispose()
    {
        lock (_queueLock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Monitor.PulseAll(_queueLock);
        }

        _flusher.Join();
        lock (_lock)
        {
            _active?.Dispose();
            _active = null;
        }

        _folderLock.Dispose();
    }

    /// <summary>One journal per folder: a second process (or instance) on the same folder fails at start.</summary>
    private static FileStream Lock(string directory)
    {
        var path = Path.Combine(directory, LockFile);
        try
        {
            var options = new FileStreamOptions
            {
                Mode = System.IO.FileMode.OpenOrCreate,
                Access = FileAccess.ReadWrite,
                Share = FileShare.None,
            };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = FileMode;
            }

            return new FileStream(path, options);
        }
        catch (IOException e)
        {
            throw new IOException(
                $"the journal folder {directory} is in use by another server (each server needs its own Storage:JournalDirectory)", e);
        }
    }

    private void FlushLoop()
    {
        while (true)
        {
            List<Append> group;
            lock (_queueLock)
            {
                while (_queue.Count == 0 && !_disposed)
                {
                    Monitor.Wait(_queueLock);
                }

                if (_queue.Count == 0)
                {
                    return;
                }

                group = _queue;
                _queue = _spare;
                _spare = group;
            }

            Write(group);
            foreach (var append in group)
            {
                ArrayPool<byte>.Shared.Return(append.Buffer);
            }

            group.Clear();
        }
    }

    private void Write(List<Append> group)
    {
        var positions = new long[group.Count];
        long first;
        lock (_lock)
        {
            first = _lastPosition + 1;
        }

        var written = new List<(Segment Segment, long Offset)>(group.Count);
        long groupBytes = 0;
        FileStream? file = null;
        long rollback = 0;
        try
        {
            for (var i = 0; i < group.Count; i++)
            {
                var append = group[i];
                var position = first + i;
                if (_active is null || _activeSegment is null
                    || (_activeSegment.Bytes > 0 && _activeSegment.Bytes + append.Length > SegmentBytes))
                {
                    if (_active is not null)
                    {
                        Sync();
                    }

                    Roll(position);
                }

                file = _active!;
                if (written.Count == 0 || written[^1].Segment != _activeSegment)
                {
                    rollback = _activeSegment!.Bytes;
                }

                Seal(append.Buffer, append.Length, append.Count, position);
                var offset = _activeSegment!.Bytes;
                file.Write(append.Buffer, 0, append.Length);
                _activeSegment.Bytes += append.Length;
                _activeSegment.Last = position;
                written.Add((_activeSegment, offset));
                positions[i] = position;
                groupBytes += append.Length;
            }

            Sync();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            JournalLog.WriteFailed(_logger, e, group.Count);
            // Nothing of this group is acknowledged: take its bytes back out of the segment, if the disk lets us.
            try
            {
                if (file is not null && _activeSegment is not null)
                {
                    _activeSegment.Bytes = rollback;
                    file.SetLength(rollback);
                }
            }
            catch (Exception) when (file is not null)
            {
                // The next open cuts whatever is left at the last valid record.
            }

            _active?.Dispose();
            _active = null;
            _activeSegment = null;
            foreach (var append in group)
            {
                Interlocked.Add(ref _reserved, -append.Length);
                append.Done.TrySetException(e);
            }

            return;
        }

        lock (_lock)
        {
            for (var i = 0; i < group.Count; i++)
            {
                _entries[positions[i]] = new Entry(written[i].Segment, written[i].Offset,
                    group[i].Length - HeaderSize, group[i].Count);
                _outstanding.Add(positions[i]);
            }

            _lastPosition = positions[^1];
            Interlocked.Add(ref _bytes, groupBytes);
            Interlocked.Add(ref _reserved, -groupBytes);
            Interlocked.Add(ref _appends, group.Count);
        }

        for (var i = 0; i < group.Count; i++)
        {
            group[i].Done.TrySetResult(positions[i]);
        }
    }

    /// <summary>
    /// Makes the active segment durable: a new segment with <c>fsync</c> of the file and of the folder (its
    /// directory entry), later appends with <see cref="FileSync.Data"/> (<c>fdatasync</c> on Linux).
    /// </summary>
    private void Sync()
    {
        if (_activeSynced)
        {
            FileSync.Data(_active!);
        }
        else
        {
            _active!.Flush(flushToDisk: true);
            FileSync.Folder(Directory);
            _activeSynced = true;
        }

        Interlocked.Increment(ref _fsyncs);
    }

    private void Roll(long firstPosition)
    {
        _active?.Dispose();
        var path = Path.Combine(Directory, firstPosition.ToString("D20", CultureInfo.InvariantCulture) + Extension);
        var options = new FileStreamOptions
        {
            Mode = System.IO.FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.Read | FileShare.Delete,
            BufferSize = 1 << 16,
        };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        _active = new FileStream(path, options);
        _activeSynced = false;
        var segment = new Segment(path, firstPosition);
        lock (_lock)
        {
            _segments.Add(segment);
        }

        _activeSegment = segment;
    }

    private static void Seal(byte[] buffer, int length, int count, long position)
    {
        var header = buffer.AsSpan(0, HeaderSize);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], length - HeaderSize);
        BinaryPrimitives.WriteInt32LittleEndian(header[12..], count);
        BinaryPrimitives.WriteInt64LittleEndian(header[16..], position);
        BinaryPrimitives.WriteUInt32LittleEndian(header[24..], Checksum(buffer, length));
    }

    private static uint Checksum(byte[] buffer, int length)
    {
        var crc = new Crc32();
        crc.Append(buffer.AsSpan(0, 24));
        crc.Append(buffer.AsSpan(HeaderSize, length - HeaderSize));
        return crc.GetCurrentHashAsUInt32();
    }

    /// <summary>Checks a whole record in <paramref name="buffer"/> (header and payload, <paramref name="available"/> bytes).</summary>
    private static bool TryParseHeader(byte[] buffer, int available, out int length, out int count, out long position)
    {
        length = 0;
        count = 0;
        position = 0;
        if (available < HeaderSize || !buffer.AsSpan(0, 4).SequenceEqual(Magic)
            || BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(4)) != FormatVersion)
        {
            return false;
        }

        length = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(8));
        count = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(12));
        position = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(16));
        return length >= 0 && count >= 0 && position > 0 && HeaderSize + length <= available
            && Checksum(buffer, HeaderSize + length) == BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(24));
    }

    /// <summary>Reads every segment, cuts each at its first record that does not check, and indexes the rest.</summary>
    private void Scan()
    {
        var files = System.IO.Directory.GetFiles(Directory, "*" + Extension);
        Array.Sort(files, StringComparer.Ordinal);
        var header = new byte[HeaderSize];
        foreach (var path in files)
        {
            if (!long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture,
                    out var firstPosition))
            {
                continue;
            }

            var segment = new Segment(path, firstPosition);
            long offset = 0;
            using (var file = new FileStream(path, System.IO.FileMode.Open, FileAccess.ReadWrite, FileShare.Read, 1 << 16))
            {
                var size = file.Length;
                var record = Array.Empty<byte>();
                while (offset + HeaderSize <= size)
                {
                    file.Position = offset;
                    file.ReadExactly(header);
                    var length = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
                    if (length < 0 || offset + HeaderSize + length > size)
                    {
                        break;
                    }

                    if (record.Length < HeaderSize + length)
                    {
                        record = new byte[HeaderSize + length];
                    }

                    header.CopyTo(record, 0);
                    file.ReadExactly(record, HeaderSize, length);
                    if (!TryParseHeader(record, HeaderSize + length, out _, out var count, out var position)
                        || position <= _lastPosition)
                    {
                        break;
                    }

                    _entries[position] = new Entry(segment, offset, length, count);
                    _outstanding.Add(position);
                    _unconfirmed.Add(position);
                    _lastPosition = position;
                    segment.Last = position;
                    offset += HeaderSize + length;
                }

                if (offset < size)
                {
                    JournalLog.TailCut(_logger, path, size - offset, offset);
                    file.SetLength(offset);
                    file.Flush(flushToDisk: true);
                }
            }

            segment.Bytes = offset;
            if (offset == 0)
            {
                File.Delete(path);
                continue;
            }

            _segments.Add(segment);
            _bytes += offset;
        }
    }

    private string ReadOrCreateId()
    {
        var path = Path.Combine(Directory, IdFile);
        // With no segment left nothing is outstanding: a fresh id cannot be confused with positions a
        // database recorded for an older journal in this folder.
        if (_segments.Count > 0 && File.Exists(path))
        {
            var existing = File.ReadAllText(path).Trim();
            if (existing.Length is > 0 and <= 64)
            {
                return existing;
            }
        }

        var id = Guid.NewGuid().ToString("N");
        var options = new FileStreamOptions { Mode = System.IO.FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = FileMode;
        }

        using (var file = new FileStream(path, options))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(id));
            file.Flush(flushToDisk: true);
        }

        return id;
    }

    private static void CreateFolder(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            System.IO.Directory.CreateDirectory(directory);
            return;
        }

        System.IO.Directory.CreateDirectory(directory, FolderMode);
        File.SetUnixFileMode(directory, FolderMode);
    }

    /// <summary>Deletes closed segments whose every position is applied. Called under <see cref="_lock"/>.</summary>
    private void DeleteAppliedSegments()
    {
        var watermark = _outstanding.Count == 0 ? _lastPosition : _outstanding.Min - 1;
        while (_segments.Count > 0 && _segments[0] != _activeSegment && _segments[0].Last <= watermark)
        {
            var segment = _segments[0];
            try
            {
                File.Delete(segment.Path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                JournalLog.DeleteFailed(_logger, e, segment.Path);
                return;
            }

            _segments.RemoveAt(0);
            Interlocked.Add(ref _bytes, -segment.Bytes);
        }
    }

    private sealed class Segment(string path, long first)
    {
        public string Path { get; } = path;

        public long First { get; } = first;

        public long Last { get; set; } = first - 1;

        /// <summary>Written only by the flusher (or the scan before it starts).</summary>
        public long Bytes { get; set; }
    }

    private readonly record struct Entry(Segment Segment, long Offset, int Length, int Count);

    private sealed class Append(byte[] buffer, int length, int count)
    {
        public byte[] Buffer { get; } = buffer;

        public int Length { get; } = length;

        public int Count { get; } = count;

        public TaskCompletionSource<long> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
