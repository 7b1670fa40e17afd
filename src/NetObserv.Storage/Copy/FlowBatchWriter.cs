using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.Journal;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Spill;
using Npgsql;

namespace NetObserv.Storage.Copy;

/// <summary>
/// The writer lanes: <see cref="StorageOptions.Writers"/> loops drain the <see cref="FlowChannel"/> in
/// batches (<see cref="StorageOptions.BatchSize"/> rows, or whatever arrived within
/// <see cref="StorageOptions.FlushInterval"/>) and hand each to the <see cref="FlowDatabaseWriter"/>: one
/// transaction with the COPY into <c>flow_rows</c>, the per-minute rollup deltas and the journal positions
/// of the batch. Beside them the
/// <see cref="JournalReplayer"/> writes what is in the <see cref="FlowJournal"/> but in no lane, and with
/// <see cref="StorageOptions.Durability"/> <c>journal</c> the lanes begin only once it has replayed what the
/// previous run left.
/// <para>
/// A batch that fails because the database is unavailable is retried with backoff, never dropped.
/// A batch the database refuses for what it holds (a data error, <see cref="WriteErrorClassifier"/>) is
/// split in halves until the bad record(s) are isolated: every other record is stored (each committed
/// part with its rollups), and the bad ones go to <c>flows_rejected</c> (<see cref="RejectedFlows"/>,
/// counted in <see cref="RowsRejected"/>). A passing conflict (deadlock, lock timeout) is retried a few
/// times, then treated the same way, so no record can hold up the others.
/// </para>
/// <para>
/// Outage: a batch that has failed for <see cref="StorageOptions.SpillAfter"/> because the database is
/// unavailable is given to the journal (journaled batches are only released to the replayer; records
/// that were never journaled are appended first), and from then on every lane drains the channel the
/// same way while the replayer probes the database; once it answers the replayer writes the journal,
/// oldest first. The journal thus grows during an outage, up to <see cref="StorageOptions.JournalMaxBytes"/>;
/// past it lanes keep their batch in memory and ingest gets backpressure. At shutdown with the database
/// unavailable, whatever is left goes to the journal at once; with the journal durability it is there
/// already.
/// </para>
/// </summary>
public sealed class FlowBatchWriter : BackgroundService
{
    private static readonly TimeSpan s_minimumFlushInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_maximumBackoff = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan s_maximumProbeInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_minimumProbeInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan s_abortGrace = TimeSpan.FromSeconds(10);

    /// <summary>Attempts at a part failing with a <see cref="WriteErrorClass.Transient"/> error before it is split.</summary>
    private const int TransientAttempts = 5;

    private readonly FlowChannel _channel;
    private readonly FlowPartitions _partitions;
    private readonly int _batchSize;
    private readonly TimeSpan _flushInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FlowWriterMetrics _metrics;
    private readonly int _lanes;
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _replayStop = new();
    private readonly TaskCompletionSource _stoppingSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly FlowJournal? _journal;
    private readonly bool _waitForRecovery;
    private readonly SpillJournal? _spillFiles;
    private readonly TimeSpan _spillAfter;
    private readonly RejectedFlows _rejected;
    private readonly FlowDatabaseWriter _database;
    private readonly JournalReplayer _replayer;
    private readonly WriterCounters _counters = new();
    private long _rowsSpilledAtShutdown;
    private long _rowsSpilledOnTimeout;
    private Exception? _lastOutage;
    private string? _lastWriteError;
    private long _rowsLost;
    private int _spillFullLogged;
    private volatile bool _stopping;
    private int _inFlight;

    public FlowBatchWriter(FlowChannel channel, FlowDatabase database, FlowPartitions partitions,
        IOptions<StorageOptions> options, IMeterFactory meterFactory, TimeProvider timeProvider,
        ILogger<FlowBatchWriter> logger, FlowJournal? journal = null, FlowKeyCache? keys = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(options);
        _channel = channel;
        _partitions = partitions;
        _batchSize = Math.Max(1, options.Value.BatchSize);
        _lanes = Math.Max(1, options.Value.Writers);
        _flushInterval = options.Value.FlushInterval > s_minimumFlushInterval
            ? options.Value.FlushInterval
            : s_minimumFlushInterval;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger;
        var storage = options.Value;
        _journal = journal;
        _waitForRecovery = journal is not null && storage.DurabilityMode == Durability.Journal;
        if (Directory.Exists(storage.ResolvedSpillDirectory))
        {
            _spillFiles = new SpillJournal(storage.ResolvedSpillDirectory, long.MaxValue, _time);
        }

        _spillAfter = storage.SpillAfter > TimeSpan.Zero ? storage.SpillAfter : TimeSpan.Zero;
        var probeInterval = _spillAfter < s_minimumProbeInterval ? s_minimumProbeInterval
            : _spillAfter > s_maximumProbeInterval ? s_maximumProbeInterval : _spillAfter;
        _metrics = new FlowWriterMetrics(meterFactory, () => _channel.Count + Volatile.Read(ref _inFlight),
            () => (_journal?.Bytes ?? 0) + (_spillFiles?.Bytes ?? 0));
        _rejected = new RejectedFlows(database.DataSource, Math.Max(0, storage.RejectedMaxRows), _metrics, _logger);
        _database = new FlowDatabaseWriter(database.DataSource, database.Mode, partitions, _metrics, _time,
            (keys ?? new FlowKeyCache()).Dictionaries);
        _replayer = new JournalReplayer(_database, journal, _spillFiles, _rejected, _counters, _metrics, _batchSize,
            probeInterval, _time, _logger);
    }

    /// <summary>Rows committed since start.</summary>
    public long RowsWritten => _database.RowsWritten;

    /// <summary>Batches committed since start (a split batch counts each committed part).</summary>
    public long BatchesWritten => _database.Batches;

    /// <summary>Failed write attempts since start (each was retried or split).</summary>
    public long WriteErrors => _counters.WriteErrors;

    /// <summary>Records the database refused for what they hold (kept in <c>flows_rejected</c> when it has room).</summary>
    public long RowsRejected => _counters.RowsRejected;

    /// <summary>Rows given from the lanes to the journal during an outage since start.</summary>
    public long RowsSpilled => _counters.RowsSpilled;

    /// <summary>Rows replayed from the journal (or former spill files) since start (also counted in <see cref="RowsWritten"/>).</summary>
    public long RowsReplayed => _counters.RowsReplayed;

    /// <summary>Former spill files that could not be read and were moved to <c>bad/</c>.</summary>
    public long BadSpillFiles => _counters.BadSpillFiles;

    /// <summary>True while batches go to the journal instead of the database.</summary>
    public bool IsSpilling => _replayer.IsOutage;

    /// <summary>Journal batches not yet in the database (with the memory durability: waiting to be replayed) and former spill files.</summary>
    public int SpillFiles => (_journal?.OutstandingBatches ?? 0) + (_spillFiles?.Files ?? 0);

    /// <summary>Bytes of former spill files, and of the journal while it holds batches not yet in the database.</summary>
    public long SpillBytes => (_journal is { OutstandingBatches: > 0 } ? _journal.Bytes : 0) + (_spillFiles?.Bytes ?? 0);

    /// <summary>The journal folder, or null when there is no journal.</summary>
    public string? SpillDirectory => _journal?.Directory;

    /// <summary>The write-ahead journal, or null when there is none.</summary>
    public FlowJournal? Journal => _journal;

    /// <summary>Completes once what the previous run left in the journal is written.</summary>
    public Task Recovered => _replayer.Recovered;

    /// <summary>
    /// Completes the channel and waits until everything it accepted is written (or, with the database
    /// unavailable, given to the journal). If <paramref name="cancellationToken"/> fires first (the
    /// host's shutdown timeout, e.g. while a database connection hangs), what is left goes to the
    /// journal; only what the journal cannot take is given up, and logged.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
        _stoppingSignal.TrySetResult();
        _channel.Complete();
        using var registration = cancellationToken.Register(
            static state => ((CancellationTokenSource)state!).Cancel(), _abort);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (ExecuteTask is { IsCompleted: false } running)
        {
            // The host's timeout fired: the lanes are moving what is left to the journal (local disk,
            // quick). Wait for that, within a bound, so it is done before the process exits.
            try
            {
                await running.WaitAsync(s_abortGrace, _time, CancellationToken.None).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                // Logged by RunLanesAsync if it ever finishes; nothing more can be done here.
            }
        }

        if (ExecuteTask is { IsCanceled: true })
        {
            // Stopped before the loop ever ran (the host cancels a background service that has not
            // begun): drain here, so what was accepted is still written.
            await RunLanesAsync().ConfigureAwait(false);
        }
    }

    public override void Dispose()
    {
        base.Dispose();
        _abort.Dispose();
        _replayStop.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        using var stopping = stoppingToken.Register(static state => ((FlowChannel)state!).Complete(), _channel);
        await RunLanesAsync().ConfigureAwait(false);
    }

    private async Task RunLanesAsync()
    {
        StorageLog.WriterStarted(_logger, _batchSize, _flushInterval, _lanes);
        if (_spillFiles is { Files: > 0 })
        {
            StorageLog.SpillJournalFound(_logger, _spillFiles.Directory, _spillFiles.Files, _spillFiles.Bytes);
        }

        var stop = _replayStop.Token;
        var replay = Task.Run(() => _replayer.RunAsync(stop));
        var lanes = new Task[_lanes];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = Task.Run(() => RunAsync(new WriteLane(Math.Min(_batchSize, 100_000))));
        }

        await Task.WhenAll(lanes).ConfigureAwait(false);
        await _replayStop.CancelAsync().ConfigureAwait(false);
        await replay.ConfigureAwait(false);
        if (Interlocked.Read(ref _rowsLost) > 0)
        {
            StorageLog.WriterAborted(_logger, Interlocked.Read(ref _rowsLost));
        }

        // Why rows went to the journal at shutdown: the database was unavailable, or the host's shutdown
        // timeout passed while they were still being written.
        var atShutdown = Interlocked.Read(ref _rowsSpilledAtShutdown);
        var onTimeout = Interlocked.Read(ref _rowsSpilledOnTimeout);
        if (onTimeout > 0)
        {
            StorageLog.SpilledOnShutdownTimeout(_logger, atShutdown + onTimeout,
                Volatile.Read(ref _lastWriteError) ?? "none", _journal!.Directory);
        }
        else if (atShutdown > 0)
        {
            var outage = Volatile.Read(ref _lastOutage);
            StorageLog.SpilledAtShutdown(_logger, outage, outage?.Message, atShutdown, _journal!.Directory);
        }

        StorageLog.WriterStopped(_logger, RowsWritten, BatchesWritten);
    }

    /// <summary>One writer loop: until the channel is completed and empty, or the writer is aborted.</summary>
    private async Task RunAsync(WriteLane lane)
    {
        var abort = _abort.Token;
        var batch = lane.Batch;
        var inFlight = 0;
        var released = new HashSet<long>();
        try
        {
            if (_waitForRecovery)
            {
                // What the previous run left is written before new traffic (unless the process stops first).
                await Task.WhenAny(_replayer.Recovered, _stoppingSignal.Task).WaitAsync(abort).ConfigureAwait(false);
            }

            while (await _channel.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                await FillAsync(lane, abort).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    inFlight = batch.Count;
                    Interlocked.Add(ref _inFlight, inFlight);
                    if (!IsSpilling || !await TrySpillAsync(lane, 0, batch.Count, null, released).ConfigureAwait(false))
                    {
                        await WriteAsync(lane, 0, batch.Count, released, abort).ConfigureAwait(false);
                        _rejected.LogAndClear(lane.Rejections, batch.Count, "a batch");
                    }

                    Settle(lane, released);
                    Interlocked.Add(ref _inFlight, -inFlight);
                    inFlight = 0;
                    lane.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The host's shutdown timeout: what this lane holds (past what is already settled) and
            // what the channel still has go to the journal; only what it cannot take is lost (and counted).
            await SpillOrLoseAsync(lane, lane.Done, batch.Count - lane.Done, released).ConfigureAwait(false);
            Interlocked.Add(ref _inFlight, -inFlight);
            lane.Clear();
            while (_channel.Drain(batch, lane.Positions, _batchSize) > 0)
            {
                await SpillOrLoseAsync(lane, 0, batch.Count, released).ConfigureAwait(false);
                lane.Clear();
            }
        }
    }

    /// <summary>The lane's journaled batches it did not release are settled: the journal may forget them.</summary>
    private void Settle(WriteLane lane, HashSet<long> released)
    {
        if (_journal is null)
        {
            return;
        }

        var settled = new List<long>(lane.Positions.Count);
        foreach (var (position, _) in lane.Positions)
        {
            if (position > 0 && !released.Contains(position))
            {
                settled.Add(position);
            }
        }

        released.Clear();
        _journal.MarkApplied(settled);
    }

    private async Task SpillOrLoseAsync(WriteLane lane, int start, int count, HashSet<long> released)
    {
        if (count > 0 && !await TrySpillAsync(lane, start, count, null, released).ConfigureAwait(false))
        {
            Interlocked.Add(ref _rowsLost, count);
        }

        released.Clear();
    }

    /// <summary>
    /// Gives records [start, start + count) to the journal for the replayer: journaled batches wholly inside
    /// are released (added to <paramref name="released"/>), the other records are appended as one new batch
    /// first. False when there is no journal, it is full or the disk fails: the caller keeps them in memory.
    /// </summary>
    private async Task<bool> TrySpillAsync(WriteLane lane, int start, int count, Exception? cause,
        HashSet<long> released)
    {
        if (_journal is null)
        {
            return false;
        }

        var batch = lane.Batch;
        var whole = new List<long>();
        var rest = new List<FlowRecord>();
        var begin = 0;
        foreach (var (position, end) in lane.Positions)
        {
            var from = Math.Max(begin, start);
            var to = Math.Min(end, start + count);
            if (position > 0 && begin >= start && end <= start + count)
            {
                whole.Add(position);
            }
            else if (from < to)
            {
                rest.AddRange(batch.GetRange(from, to - from));
            }

            begin = end;
        }

        if (begin < start + count)
        {
            // Records without a batch entry (taken before positions were tracked): all of them.
            var from = Math.Max(begin, start);
            rest.AddRange(batch.GetRange(from, start + count - from));
        }

        if (rest.Count > 0)
        {
            long appended;
            try
            {
                appended = await _journal.AppendAsync(rest, 0, rest.Count).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                StorageLog.SpillFailed(_logger, e, count);
                return false;
            }

            if (appended == 0)
            {
                if (Interlocked.Exchange(ref _spillFullLogged, 1) == 0)
                {
                    StorageLog.SpillFull(_logger, _journal.Bytes, _journal.MaxBytes);
                }

                return false;
            }

            _journal.Release(appended);
        }

        foreach (var position in whole)
        {
            _journal.Release(position);
            released.Add(position);
        }

        Volatile.Write(ref _spillFullLogged, 0);
        _counters.Spilled(count);
        if (cause is not null)
        {
            Volatile.Write(ref _lastOutage, cause);
        }

        if (_stopping)
        {
            Interlocked.Add(ref _abort.IsCancellationRequested ? ref _rowsSpilledOnTimeout : ref _rowsSpilledAtShutdown,
                count);
        }

        _metrics.Spilled(count);

        // Only a failed write starts an outage; a batch spilled because one is under way does not
        // restart it after the probe has ended it.
        if (cause is not null && _replayer.StartOutage())
        {
            StorageLog.SpillStarted(_logger, cause, _journal.Directory);
        }

        return true;
    }

    /// <summary>
    /// Whether a batch failing since <paramref name="failingSince"/>, last with <paramref name="error"/>,
    /// goes to the journal now: only when the database is unavailable, and then after
    /// <see cref="StorageOptions.SpillAfter"/>, at once during an outage another lane saw, or at shutdown.
    /// </summary>
    private bool ShouldSpill(long failingSince, Exception error) =>
        _journal is not null
        && WriteErrorClassifier.Classify(error) == WriteErrorClass.Unavailable
        && (_stopping || IsSpilling || _time.GetElapsedTime(failingSince) >= _spillAfter);

    /// <summary>Takes records until the batch is full, the flush interval has passed, or the channel is done.</summary>
    private async Task FillAsync(WriteLane lane, CancellationToken abort)
    {
        var batch = lane.Batch;
        _channel.Drain(batch, lane.Positions, _batchSize);
        if (batch.Count >= _batchSize)
        {
            return;
        }

        using var timer = new CancellationTokenSource(_flushInterval, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(abort, timer.Token);
        try
        {
            while (batch.Count < _batchSize && await _channel.WaitToReadAsync(linked.Token).ConfigureAwait(false))
            {
                _channel.Drain(batch, lane.Positions, _batchSize - batch.Count);
            }
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            // Flush on time.
        }
    }

    /// <summary>Writes records [start, start + count) until they are committed (or the bad ones isolated and rejected).</summary>
    private async Task WriteAsync(WriteLane lane, int start, int count, HashSet<long> released, CancellationToken abort)
    {
        var batch = lane.Batch;
        var failingSince = 0L;
        var transient = 0;
        var positions = _journal is null ? null : lane.PositionsWithin(start, count);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                // Positions already recorded: an earlier attempt committed after all (its answer was lost).
                await _database.WriteOnceAsync(lane, start, count, null, _journal?.Id, positions, abort)
                    .ConfigureAwait(false);
                lane.Done = start + count;
                if (attempt > 1)
                {
                    StorageLog.BatchRecovered(_logger, count, attempt);
                }

                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !abort.IsCancellationRequested)
            {
                _counters.WriteError();
                _metrics.Error();
                Volatile.Write(ref _lastWriteError, e.Message);
                var kind = WriteErrorClassifier.Classify(e);
                if (kind == WriteErrorClass.Data || (kind == WriteErrorClass.Transient && ++transient >= TransientAttempts))
                {
                    if (count == 1)
                    {
                        if (await _rejected.RejectAsync(lane.Rejections, batch[start], e, null, abort).ConfigureAwait(false))
                        {
                            _counters.Rejected();
                        }

                        lane.Done = start + 1;
                        return;
                    }

                    StorageLog.BatchSplit(_logger, e, count);
                    var half = count / 2;
                    await WriteAsync(lane, start, half, released, abort).ConfigureAwait(false);
                    await WriteAsync(lane, start + half, count - half, released, abort).ConfigureAwait(false);
                    return;
                }

                if (e is PostgresException { SqlState: PostgresErrorCodes.CheckViolation })
                {
                    // "no partition of relation flows found for row": a partition was dropped under us.
                    _partitions.Forget();
                }

                if (attempt == 1)
                {
                    failingSince = _time.GetTimestamp();
                }

                if (ShouldSpill(failingSince, e) && await TrySpillAsync(lane, start, count, e, released).ConfigureAwait(false))
                {
                    lane.Done = start + count;
                    return;
                }

                var delay = Backoff(attempt);
                if (_journal is not null && !IsSpilling && kind == WriteErrorClass.Unavailable)
                {
                    // Try again no later than the moment the batch is due for the journal.
                    var due = _spillAfter - _time.GetElapsedTime(failingSince);
                    delay = due < delay ? (due > s_minimumProbeInterval ? due : s_minimumProbeInterval) : delay;
                }

                StorageLog.BatchFailed(_logger, e, count, attempt, delay);
                await Task.Delay(delay, _time, abort).ConfigureAwait(false);
            }
        }
    }

    internal static TimeSpan Backoff(int attempt)
    {
        var ms = 200 * Math.Pow(2, Math.Min(attempt - 1, 16));
        return TimeSpan.FromMilliseconds(Math.Min(ms, s_maximumBackoff.TotalMilliseconds));
    }
}
