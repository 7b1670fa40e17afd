using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Rollups;
using NetObserv.Storage.Spill;
using Npgsql;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Drains the <see cref="FlowChannel"/> in batches (<see cref="StorageOptions.BatchSize"/> rows, or
/// whatever arrived within <see cref="StorageOptions.FlushInterval"/>) and writes each batch in one
/// transaction: a binary COPY into <c>flow_rows</c> plus a binary COPY of the batch's per-minute sums into
/// the rollup deltas (<see cref="RollupDeltas"/>; <see cref="RollupCompaction"/> merges them and derives the
/// 5-minute, 10-minute and hourly levels). In native mode the daily partitions a batch needs
/// are created first, so late or future data is never refused. <see cref="StorageOptions.Writers"/>
/// loops run at once, each with its own connection; they only append, so they never wait on each other's rows.
/// <para>
/// A batch that fails because the database is unavailable is retried with backoff, never dropped.
/// A batch the database refuses for what it holds (a data error, <see cref="WriteErrorClassifier"/>) is
/// split in halves until the bad record(s) are isolated: every other record is stored (each committed
/// part with its rollups), and the bad ones go to <c>flows_rejected</c> (<see cref="RejectedFlows"/>,
/// counted in <see cref="RowsRejected"/>). A passing conflict (deadlock, lock timeout) is retried a few
/// times, then treated the same way, so no record can hold up the others. On shutdown the channel
/// is completed and everything already accepted is written before the writer stops.
/// </para>
/// <para>
/// Spill journal (<see cref="SpillJournal"/>): a batch that has failed for
/// <see cref="StorageOptions.SpillAfter"/> because the database is unavailable is written to disk
/// instead, and from then on every lane drains the channel straight into the journal (ingest sees no
/// backpressure) while a probe checks once a second whether the database is back. Then the journal is
/// replayed oldest file first, through the same partitions, COPY and rollup upserts as a live batch,
/// one transaction per file that also records the file's id in <c>spill_replayed</c>, so a file is
/// written once even if the process dies between commit and delete. A file the database refuses for
/// what it holds is split like a live batch (each part, and each refused record, recorded under its
/// own id), so it never blocks the files after it. When the journal reaches
/// <see cref="StorageOptions.SpillMaxBytes"/> the writer falls back to retrying in memory. At shutdown
/// with the database unavailable, whatever is left goes to the journal at once.
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
    private readonly NpgsqlDataSource _dataSource;
    private readonly StorageMode _mode;
    private readonly FlowPartitions _partitions;
    private readonly int _batchSize;
    private readonly FlowDictionaries _dictionaries = new();
    private readonly TimeSpan _flushInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FlowWriterMetrics _metrics;
    private readonly int _lanes;
    private readonly CancellationTokenSource _abort = new();
    private readonly CancellationTokenSource _journalStop = new();
    private readonly SpillJournal? _journal;
    private readonly TimeSpan _spillAfter;
    private readonly TimeSpan _probeInterval;
    private readonly RejectedFlows _rejected;
    private long _rowsSpilled;
    private long _rowsSpilledAtShutdown;
    private long _rowsSpilledOnTimeout;
    private Exception? _lastOutage;
    private string? _lastWriteError;
    private long _rowsReplayed;
    private long _rowsLost;
    private long _badSpillFiles;
    private int _spilling;
    private int _spillFullLogged;
    private volatile bool _stopping;
    private long _rowsWritten;
    private long _batches;
    private long _writeErrors;
    private long _rowsRejected;
    private int _inFlight;

    public FlowBatchWriter(FlowChannel channel, FlowDatabase database, FlowPartitions partitions,
        IOptions<StorageOptions> options, IMeterFactory meterFactory, TimeProvider timeProvider,
        ILogger<FlowBatchWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(database);
        ArgumentNullException.ThrowIfNull(partitions);
        ArgumentNullException.ThrowIfNull(options);
        _channel = channel;
        _dataSource = database.DataSource;
        _mode = database.Mode;
        _partitions = partitions;
        _batchSize = Math.Max(1, options.Value.BatchSize);
        _lanes = Math.Max(1, options.Value.Writers);
        _flushInterval = options.Value.FlushInterval > s_minimumFlushInterval
            ? options.Value.FlushInterval
            : s_minimumFlushInterval;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger;
        var storage = options.Value;
        if (storage.SpillMaxBytes > 0)
        {
            _journal = new SpillJournal(storage.ResolvedSpillDirectory, storage.SpillMaxBytes, _time);
        }

        _spillAfter = storage.SpillAfter > TimeSpan.Zero ? storage.SpillAfter : TimeSpan.Zero;
        _probeInterval = _spillAfter < s_minimumProbeInterval ? s_minimumProbeInterval
            : _spillAfter > s_maximumProbeInterval ? s_maximumProbeInterval : _spillAfter;
        _metrics = new FlowWriterMetrics(meterFactory, () => _channel.Count + Volatile.Read(ref _inFlight),
            () => _journal?.Bytes ?? 0);
        _rejected = new RejectedFlows(_dataSource, Math.Max(0, storage.RejectedMaxRows), _metrics, _logger);
    }

    /// <summary>Rows committed since start.</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsWritten);

    /// <summary>Batches committed since start (a split batch counts each committed part).</summary>
    public long BatchesWritten => Interlocked.Read(ref _batches);

    /// <summary>Failed write attempts since start (each was retried or split).</summary>
    public long WriteErrors => Interlocked.Read(ref _writeErrors);

    /// <summary>Records the database refused for what they hold (kept in <c>flows_rejected</c> when it has room).</summary>
    public long RowsRejected => Interlocked.Read(ref _rowsRejected);

    /// <summary>Rows written to the spill journal since start.</summary>
    public long RowsSpilled => Interlocked.Read(ref _rowsSpilled);

    /// <summary>Rows from the spill journal committed since start (also counted in <see cref="RowsWritten"/>).</summary>
    public long RowsReplayed => Interlocked.Read(ref _rowsReplayed);

    /// <summary>Spill files that could not be read and were moved to <c>bad/</c>.</summary>
    public long BadSpillFiles => Interlocked.Read(ref _badSpillFiles);

    /// <summary>True while batches go to the spill journal instead of the database.</summary>
    public bool IsSpilling => Volatile.Read(ref _spilling) != 0;

    /// <summary>Spill files waiting to be replayed.</summary>
    public int SpillFiles => _journal?.Files ?? 0;

    /// <summary>Bytes of spill files waiting to be replayed.</summary>
    public long SpillBytes => _journal?.Bytes ?? 0;

    /// <summary>The spill folder, or null when spilling is off.</summary>
    public string? SpillDirectory => _journal?.Directory;

    /// <summary>
    /// Completes the channel and waits until everything it accepted is written (or, with the database
    /// unavailable, spilled to the journal). If <paramref name="cancellationToken"/> fires first (the
    /// host's shutdown timeout, e.g. while a database connection hangs), what is left goes to the
    /// journal; only what the journal cannot take is given up, and logged.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopping = true;
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
        _journalStop.Dispose();
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
        var journal = Task.CompletedTask;
        if (_journal is not null)
        {
            if (_journal.Files > 0)
            {
                StorageLog.SpillJournalFound(_logger, _journal.Directory, _journal.Files, _journal.Bytes);
            }

            var stop = _journalStop.Token;
            journal = Task.Run(() => MaintainJournalAsync(_journal, stop));
        }

        var lanes = new Task[_lanes];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = Task.Run(() => RunAsync(new Lane(Math.Min(_batchSize, 100_000))));
        }

        await Task.WhenAll(lanes).ConfigureAwait(false);
        await _journalStop.CancelAsync().ConfigureAwait(false);
        await journal.ConfigureAwait(false);
        if (Interlocked.Read(ref _rowsLost) > 0)
        {
            StorageLog.WriterAborted(_logger, Interlocked.Read(ref _rowsLost));
        }

        // Why rows went to the journal at shutdown: the database was unavailable, or the host's shutdown
        // timeout passed while they were still being written. Once the timeout has passed, every row the
        // stop moved to the journal is put down to it (queued rows may have been spilled a moment before it
        // fired, while the lanes still hoped to write theirs).
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
    private async Task RunAsync(Lane lane)
    {
        var abort = _abort.Token;
        var batch = lane.Batch;
        var inFlight = 0;
        try
        {
            while (await _channel.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                await FillAsync(batch, abort).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    inFlight = batch.Count;
                    Interlocked.Add(ref _inFlight, inFlight);
                    if (!IsSpilling || !TrySpill(batch, 0, batch.Count, null))
                    {
                        await WriteAsync(lane, 0, batch.Count, abort).ConfigureAwait(false);
                        _rejected.LogAndClear(lane.Rejections, batch.Count, "a batch");
                    }

                    Interlocked.Add(ref _inFlight, -inFlight);
                    inFlight = 0;
                    batch.Clear();
                    lane.Done = 0;
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // The host's shutdown timeout: what this lane holds (past what is already settled) and
            // what the channel still has go to the journal; only what it cannot take is lost (and counted).
            SpillOrLose(batch, lane.Done, batch.Count - lane.Done);
            Interlocked.Add(ref _inFlight, -inFlight);
            batch.Clear();
            lane.Done = 0;
            while (_channel.Drain(batch, _batchSize) > 0)
            {
                SpillOrLose(batch, 0, batch.Count);
                batch.Clear();
            }
        }
    }

    private void SpillOrLose(List<FlowRecord> batch, int start, int count)
    {
        if (count > 0 && !TrySpill(batch, start, count, null))
        {
            Interlocked.Add(ref _rowsLost, count);
        }
    }

    /// <summary>
    /// Writes records [start, start + count) to the journal. False when spilling is off, the journal
    /// is full or the disk fails: the caller then keeps the batch in memory.
    /// </summary>
    private bool TrySpill(List<FlowRecord> batch, int start, int count, Exception? cause)
    {
        if (_journal is null)
        {
            return false;
        }

        try
        {
            if (!_journal.TryAppend(batch, start, count))
            {
                if (Interlocked.Exchange(ref _spillFullLogged, 1) == 0)
                {
                    StorageLog.SpillFull(_logger, _journal.Bytes, _journal.MaxBytes);
                }

                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            StorageLog.SpillFailed(_logger, e, count);
            return false;
        }

        Volatile.Write(ref _spillFullLogged, 0);
        Interlocked.Add(ref _rowsSpilled, count);
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
        if (cause is not null && Interlocked.Exchange(ref _spilling, 1) == 0)
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
    private async Task FillAsync(List<FlowRecord> batch, CancellationToken abort)
    {
        _channel.Drain(batch, _batchSize);
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
                _channel.Drain(batch, _batchSize - batch.Count);
            }
        }
        catch (OperationCanceledException) when (timer.IsCancellationRequested && !abort.IsCancellationRequested)
        {
            // Flush on time.
        }
    }

    /// <summary>Writes records [start, start + count) until they are committed (or the bad ones isolated and rejected).</summary>
    private async Task WriteAsync(Lane lane, int start, int count, CancellationToken abort)
    {
        var batch = lane.Batch;
        var failingSince = 0L;
        var transient = 0;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteOnceAsync(lane, start, count, null, abort).ConfigureAwait(false);
                lane.Done = start + count;
                if (attempt > 1)
                {
                    StorageLog.BatchRecovered(_logger, count, attempt);
                }

                return;
            }
            catch (Exception e) when (e is not OperationCanceledException || !abort.IsCancellationRequested)
            {
                Interlocked.Increment(ref _writeErrors);
                _metrics.Error();
                Volatile.Write(ref _lastWriteError, e.Message);
                var kind = WriteErrorClassifier.Classify(e);
                if (kind == WriteErrorClass.Data || (kind == WriteErrorClass.Transient && ++transient >= TransientAttempts))
                {
                    if (count == 1)
                    {
                        if (await _rejected.RejectAsync(lane.Rejections, batch[start], e, null, abort).ConfigureAwait(false))
                        {
                            Interlocked.Increment(ref _rowsRejected);
                        }

                        lane.Done = start + 1;
                        return;
                    }

                    StorageLog.BatchSplit(_logger, e, count);
                    var half = count / 2;
                    await WriteAsync(lane, start, half, abort).ConfigureAwait(false);
                    await WriteAsync(lane, start + half, count - half, abort).ConfigureAwait(false);
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

                if (ShouldSpill(failingSince, e) && TrySpill(batch, start, count, e))
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

    /// <summary>
    /// One attempt: partitions, COPY and rollup upserts in one transaction. With a
    /// <paramref name="replayKey"/> the key is recorded in <c>spill_replayed</c> in the same transaction;
    /// returns false, writing nothing, when it was already recorded.
    /// </summary>
    private async Task<bool> WriteOnceAsync(Lane lane, int start, int count, string? replayKey, CancellationToken abort)
    {
        var started = _time.GetTimestamp();
        var batch = lane.Batch;
        var rollups = lane.Rollups;
        var days = lane.Days;
        rollups.Clear();
        days.Clear();
        for (var i = start; i < start + count; i++)
        {
            var record = batch[i];
            var timeEnd = FlowTime.Clamp(record.TimeFlowEndMs);
            rollups.Add(record, timeEnd);
            if (_mode == StorageMode.Native)
            {
                AddDay(days, FlowPartitions.DayOf(timeEnd));
            }
        }


        var connection = await _dataSource.OpenConnectionAsync(abort).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (days.Count > 0)
            {
                await _partitions.EnsureAsync(connection, days, abort).ConfigureAwait(false);
            }

            // Dictionary rows commit on their own, before the batch: a cached id always names a stored row.
            await _dictionaries.ResolveAsync(connection, batch, start, count, lane.Ids, abort).ConfigureAwait(false);
            await _dictionaries.ResolveRollupKeysAsync(connection, rollups.Level(0).Keys, lane.RollupKeyIds, abort)
                .ConfigureAwait(false);

            var transaction = await connection.BeginTransactionAsync(abort).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                if (replayKey is not null
                    && !await SpillReplayed.RecordAsync(connection, transaction, replayKey, count, abort)
                        .ConfigureAwait(false))
                {
                    return false;
                }

                var copied = await FlowCopy.WriteAsync(connection, batch, start, count, lane.Ids, abort)
                    .ConfigureAwait(false);
                if (copied != (ulong)count)
                {
                    throw new InvalidOperationException(
                        $"COPY reported {copied} rows for a batch of {count}");
                }

                var rollupRows = await RollupDeltas.WriteAsync(connection, rollups.Level(0), lane.RollupKeyIds, abort)
                    .ConfigureAwait(false);
                await transaction.CommitAsync(abort).ConfigureAwait(false);

                Interlocked.Add(ref _rowsWritten, count);
                Interlocked.Increment(ref _batches);
                _metrics.Written(count, rollupRows, _time.GetElapsedTime(started).TotalSeconds);
                return true;
            }
        }
    }

    /// <summary>
    /// The journal's own loop: while spilling, probes the database until it answers; then replays the
    /// journal oldest file first (files left by a previous run included). Runs beside the lanes, so live
    /// batches keep flowing during a replay.
    /// </summary>
    private async Task MaintainJournalAsync(SpillJournal journal, CancellationToken stop)
    {
        var lane = new Lane(Math.Min(_batchSize, 100_000));
        var failures = 0;
        try
        {
            while (!stop.IsCancellationRequested)
            {
                if (IsSpilling)
                {
                    if (!await ProbeAsync(stop).ConfigureAwait(false))
                    {
                        await Task.Delay(_probeInterval, _time, stop).ConfigureAwait(false);
                        continue;
                    }

                    Volatile.Write(ref _spilling, 0);
                    StorageLog.SpillStopped(_logger, journal.Files, journal.Bytes);
                }

                var replayed = 0;
                var failed = false;
                if (journal.Files > 0)
                {
                    foreach (var file in journal.List())
                    {
                        if (stop.IsCancellationRequested || IsSpilling)
                        {
                            break;
                        }

                        if (!await ReplayFileAsync(journal, lane, file, stop).ConfigureAwait(false))
                        {
                            failed = true;
                            break;
                        }

                        replayed++;
                    }

                    if (replayed > 0 && journal.Files == 0)
                    {
                        StorageLog.SpillJournalReplayed(_logger, RowsReplayed, BadSpillFiles);
                    }
                }

                failures = failed ? failures + 1 : 0;
                if (failed || replayed == 0)
                {
                    var delay = failed && Backoff(failures) > _probeInterval ? Backoff(failures) : _probeInterval;
                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // Shutdown: a file being replayed was rolled back and stays in the journal.
        }
    }

    private async Task<bool> ProbeAsync(CancellationToken stop)
    {
        try
        {
            var connection = await _dataSource.OpenConnectionAsync(stop).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new NpgsqlCommand("SELECT 1", connection);
                await using (command.ConfigureAwait(false))
                {
                    await command.ExecuteScalarAsync(stop).ConfigureAwait(false);
                    return true;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>
    /// Writes one journal file and deletes it. False when the database failed (the file stays for the
    /// next attempt); a file that cannot be read is moved to <c>bad/</c> and true is returned.
    /// </summary>
    private async Task<bool> ReplayFileAsync(SpillJournal journal, Lane lane, string file, CancellationToken stop)
    {
        var batch = lane.Batch;
        batch.Clear();
        var id = SpillJournal.IdOf(file);
        try
        {
            SpillJournal.Read(file, batch);
        }
        catch (InvalidDataException e)
        {
            try
            {
                var target = journal.Quarantine(file);
                Interlocked.Increment(ref _badSpillFiles);
                _metrics.BadFile();
                StorageLog.SpillBadFile(_logger, e, file, target);
                return true;
            }
            catch (Exception move) when (move is IOException or UnauthorizedAccessException)
            {
                StorageLog.SpillReplayFailed(_logger, move, file);
                return false;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            StorageLog.SpillReplayFailed(_logger, e, file);
            return false;
        }

        try
        {
            var rows = await ReplayAsync(lane, id, 0, batch.Count, stop).ConfigureAwait(false);
            _rejected.LogAndClear(lane.Rejections, batch.Count, file);
            journal.Remove(file);
            if (rows >= 0)
            {
                StorageLog.SpillReplayed(_logger, file, rows);
            }
            else
            {
                StorageLog.SpillAlreadyReplayed(_logger, file);
            }

            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            Interlocked.Increment(ref _writeErrors);
            _metrics.Error();
            StorageLog.SpillReplayFailed(_logger, e, file);
            return false;
        }
        finally
        {
            batch.Clear();
            lane.Rejections.Clear();
        }
    }

    /// <summary>
    /// Writes records [start, start + count) of a journal file in one transaction keyed by the file's
    /// id (or, for a part of a file split around a record the database refuses,
    /// <c>{id}#{start}+{count}</c>; a refused record is kept in <c>flows_rejected</c> under its own part
    /// key). Returns the rows written, or -1 when the whole file had already been written. An unavailable
    /// database propagates: the file stays in the journal; a passing conflict is retried a few times, then
    /// the part is split like a data error, so the file never blocks the newer ones.
    /// </summary>
    private async Task<int> ReplayAsync(Lane lane, string id, int start, int count, CancellationToken stop)
    {
        var whole = start == 0 && count == lane.Batch.Count;
        var key = whole ? id : string.Create(CultureInfo.InvariantCulture, $"{id}#{start}+{count}");
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (!await WriteOnceAsync(lane, start, count, key, stop).ConfigureAwait(false))
                {
                    return whole ? -1 : 0;
                }

                Interlocked.Add(ref _rowsReplayed, count);
                _metrics.Replayed(count);
                return count;
            }
            catch (Exception e) when (e is not OperationCanceledException
                && WriteErrorClassifier.Classify(e) is var kind && kind != WriteErrorClass.Unavailable)
            {
                Interlocked.Increment(ref _writeErrors);
                _metrics.Error();
                if (kind == WriteErrorClass.Transient && attempt < TransientAttempts)
                {
                    await Task.Delay(Backoff(attempt), _time, stop).ConfigureAwait(false);
                    continue;
                }

                if (count == 1)
                {
                    if (await _rejected.RejectAsync(lane.Rejections, lane.Batch[start], e, key, stop).ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref _rowsRejected);
                    }

                    return 0;
                }

                StorageLog.BatchSplit(_logger, e, count);
                var half = count / 2;
                var first = await ReplayAsync(lane, id, start, half, stop).ConfigureAwait(false);
                var second = await ReplayAsync(lane, id, start + half, count - half, stop).ConfigureAwait(false);
                return first + second;
            }
        }
    }

    private static void AddDay(List<DateOnly> days, DateOnly day)
    {
        // Batches span one or two days: a short list beats a set.
        for (var i = days.Count - 1; i >= 0; i--)
        {
            if (days[i] == day)
            {
                return;
            }
        }

        days.Add(day);
    }

    internal static TimeSpan Backoff(int attempt)
    {
        var ms = 200 * Math.Pow(2, Math.Min(attempt - 1, 16));
        return TimeSpan.FromMilliseconds(Math.Min(ms, s_maximumBackoff.TotalMilliseconds));
    }

    /// <summary>What one writer loop reuses from batch to batch.</summary>
    private sealed class Lane(int capacity)
    {
        public List<FlowRecord> Batch { get; } = new(capacity);

        public RollupAggregator Rollups { get; } = new();

        public RowIds Ids { get; } = new();

        public Dictionary<RollupKey, int> RollupKeyIds { get; } = [];

        public List<DateOnly> Days { get; } = [];

        /// <summary>Records refused in the current batch or journal file, for one log line.</summary>
        public RejectionTally Rejections { get; } = new();

        /// <summary>Records of <see cref="Batch"/> before this index are settled (committed, skipped or spilled).</summary>
        public int Done { get; set; }
    }
}
