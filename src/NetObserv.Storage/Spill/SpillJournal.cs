using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using NetObserv.Flows;

namespace NetObserv.Storage.Spill;

/// <summary>
/// The on-disk spill journal: one file per batch written while the database was unavailable, in
/// <see cref="Directory"/>, named <c>{id}.spill</c> where the id (<c>{UTC ticks:D19}-{instance}</c>)
/// sorts in write order. A file is written under a temporary name, flushed to disk and renamed, so a
/// <c>.spill</c> file is always complete. Layout: a 24-byte header (magic <c>NOSJ</c>, format version,
/// record count, payload length, CRC-32 of the payload; little-endian) then the <see cref="SpillCodec"/> payload.
/// The journal never grows past <see cref="MaxBytes"/> and never deletes a file to make room.
/// </summary>
internal sealed class SpillJournal
{
    public const string Extension = ".spill";
    public const int HeaderSize = 24;
    public const int FormatVersion = 2;

    private const string TempExtension = ".tmp";
    private static ReadOnlySpan<byte> Magic => "NOSJ"u8;

    private readonly Lock _lock = new();
    private readonly string _instance = Guid.NewGuid().ToString("N")[..12];
    private readonly TimeProvider _time;
    private long _bytes;
    private int _files;
    private long _lastTicks;

    public SpillJournal(string directory, long maxBytes, TimeProvider time)
    {
        Directory = Path.GetFullPath(directory);
        MaxBytes = maxBytes;
        _time = time;
        Scan();
    }

    /// <summary>The spill folder.</summary>
    public string Directory { get; }

    /// <summary>Where files with a bad header or checksum are moved.</summary>
    public string BadDirectory => Path.Combine(Directory, "bad");

    /// <summary>The cap on the journal's size in bytes.</summary>
    public long MaxBytes { get; }

    /// <summary>Bytes in journal files not yet replayed.</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    /// <summary>Journal files not yet replayed.</summary>
    public int Files => Volatile.Read(ref _files);

    /// <summary>
    /// Writes records [start, start + count) as one file. Returns false, writing nothing, when the file
    /// would take the journal past <see cref="MaxBytes"/>; throws on an I/O error (nothing is left behind).
    /// </summary>
    public bool TryAppend(List<FlowRecord> records, int start, int count)
    {
        if (Interlocked.Read(ref _bytes) + HeaderSize > MaxBytes)
        {
            return false;
        }

        using var buffer = new MemoryStream();
        buffer.SetLength(HeaderSize);
        buffer.Position = HeaderSize;
        SpillCodec.Encode(buffer, records, start, count);
        var bytes = buffer.GetBuffer();
        var length = (int)buffer.Length;
        var payload = bytes.AsSpan(HeaderSize, length - HeaderSize);
        var header = bytes.AsSpan(0, HeaderSize);
        Magic.CopyTo(header);
        BinaryPrimitives.WriteInt32LittleEndian(header[4..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(header[8..], count);
        BinaryPrimitives.WriteInt64LittleEndian(header[12..], payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(header[20..], Crc32.HashToUInt32(payload));

        while (true)
        {
            var current = Interlocked.Read(ref _bytes);
            if (current + length > MaxBytes)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _bytes, current + length, current) == current)
            {
                break;
            }
        }

        var id = NextId();
        var temp = Path.Combine(Directory, id + TempExtension);
        try
        {
            System.IO.Directory.CreateDirectory(Directory);
            using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None))
            {
                file.Write(bytes, 0, length);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(Directory, id + Extension));
        }
        catch
        {
            Interlocked.Add(ref _bytes, -length);
            TryDelete(temp);
            throw;
        }

        Interlocked.Increment(ref _files);
        return true;
    }

    /// <summary>The journal's files, oldest first.</summary>
    public IReadOnlyList<string> List()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return [];
        }

        var files = System.IO.Directory.GetFiles(Directory, "*" + Extension);
        Array.Sort(files, StringComparer.Ordinal);
        return files;
    }

    /// <summary>The id of a journal file (its name without extension).</summary>
    public static string IdOf(string path) => Path.GetFileNameWithoutExtension(path);

    /// <summary>
    /// Reads and checks a file: its records go to <paramref name="into"/>. Throws
    /// <see cref="InvalidDataException"/> when the header, length or checksum is wrong.
    /// </summary>
    public static void Read(string path, List<FlowRecord> into)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderSize || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new InvalidDataException("not a spill file (bad magic or shorter than its header)");
        }

        var header = bytes.AsSpan(0, HeaderSize);
        var version = BinaryPrimitives.ReadInt32LittleEndian(header[4..]);
        if (version is < 1 or > FormatVersion)
        {
            throw new InvalidDataException($"unknown spill format version {version}");
        }

        var count = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
        var length = BinaryPrimitives.ReadInt64LittleEndian(header[12..]);
        if (count < 0 || length != bytes.Length - HeaderSize)
        {
            throw new InvalidDataException(
                $"spill file holds {bytes.Length - HeaderSize} payload bytes, its header says {length}");
        }

        if (Crc32.HashToUInt32(bytes.AsSpan(HeaderSize)) != BinaryPrimitives.ReadUInt32LittleEndian(header[20..]))
        {
            throw new InvalidDataException("spill payload checksum mismatch");
        }

        var before = into.Count;
        try
        {
            SpillCodec.Decode(bytes, HeaderSize, count, into, version);
        }
        catch
        {
            into.RemoveRange(before, into.Count - before);
            throw;
        }
    }

    /// <summary>Deletes a replayed file.</summary>
    public void Remove(string path)
    {
        var length = new FileInfo(path).Length;
        File.Delete(path);
        Forget(length);
    }

    /// <summary>Moves a file that cannot be read to <see cref="BadDirectory"/>; returns its new path.</summary>
    public string Quarantine(string path)
    {
        var length = new FileInfo(path).Length;
        System.IO.Directory.CreateDirectory(BadDirectory);
        var target = Path.Combine(BadDirectory, Path.GetFileName(path));
        File.Move(path, target, overwrite: true);
        Forget(length);
        return target;
    }

    private void Forget(long length)
    {
        Interlocked.Add(ref _bytes, -length);
        Interlocked.Decrement(ref _files);
    }

    private string NextId()
    {
        long ticks;
        lock (_lock)
        {
            ticks = Math.Max(_time.GetUtcNow().UtcTicks, _lastTicks + 1);
            _lastTicks = ticks;
        }

        return ticks.ToString("D19", CultureInfo.InvariantCulture) + "-" + _instance;
    }

    /// <summary>Counts what a previous run left and removes its incomplete (never renamed) files.</summary>
    private void Scan()
    {
        if (!System.IO.Directory.Exists(Directory))
        {
            return;
        }

        foreach (var temp in System.IO.Directory.GetFiles(Directory, "*" + TempExtension))
        {
            TryDelete(temp);
        }

        foreach (var file in List())
        {
            _bytes += new FileInfo(file).Length;
            _files++;
            if (long.TryParse(IdOf(file).AsSpan(0, Math.Min(19, IdOf(file).Length)), NumberStyles.None,
                    CultureInfo.InvariantCulture, out var ticks))
            {
                _lastTicks = Math.Max(_lastTicks, ticks);
            }
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
