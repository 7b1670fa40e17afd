using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Pipeline;
using NetObserv.Storage.Partitions;
using NetObserv.Storage.Rollups;
using Npgsql;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Drains the <see cref="FlowChannel"/> in batches (<see cref="StorageOptions.BatchSize"/> rows, or
/// whatever arrived within <see cref="StorageOptions.FlushInterval"/>) and writes each batch in one
/// transaction: a binary COPY into <c>flows</c> plus additive upserts of the batch's sums into every
/// rollup (<see cref="RollupLevel.All"/>: 1 minute, 5 minutes, 10 minutes, 1 hour). In native mode the daily partitions a batch needs
/// are created first, so late or future data is never refused. <see cref="StorageOptions.Writers"/>
/// loops run at once, each with its own connection; rollup rows are upserted in key order so they
/// never deadlock each other.
/// <para>
/// A batch that fails because the database is unavailable is retried with backoff, never dropped.
/// A batch the database refuses as invalid data is split in halves until the bad record(s) are
/// isolated; only those are skipped (counted in <see cref="RowsRejected"/>). On shutdown the channel
/// is completed and everything already accepted is written before the writer stops.
/// </para>
/// </summary>
public sealed class FlowBatchWriter : BackgroundService
{
    private static readonly TimeSpan s_minimumFlushInterval = TimeSpan.FromMilliseconds(1);
    private static readonly TimeSpan s_maximumBackoff = TimeSpan.FromSeconds(10);

    private readonly FlowChannel _channel;
    private readonly NpgsqlDataSource _dataSource;
    private readonly StorageMode _mode;
    private readonly FlowPartitions _partitions;
    private readonly int _batchSize;
    private readonly TimeSpan _flushInterval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly FlowWriterMetrics _metrics;
    private readonly int _lanes;
    private readonly CancellationTokenSource _abort = new();
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
        _metrics = new FlowWriterMetrics(meterFactory, () => _channel.Count + Volatile.Read(ref _inFlight));
    }

    /// <summary>Rows committed since start.</summary>
    public long RowsWritten => Interlocked.Read(ref _rowsWritten);

    /// <summary>Batches committed since start (a split batch counts each committed part).</summary>
    public long BatchesWritten => Interlocked.Read(ref _batches);

    /// <summary>Failed write attempts since start (each was retried or split).</summary>
    public long WriteErrors => Interlocked.Read(ref _writeErrors);

    /// <summary>Records the database refused as invalid and that were skipped.</summary>
    public long RowsRejected => Interlocked.Read(ref _rowsRejected);

    /// <summary>
    /// Completes the channel and waits until everything it accepted is written. If
    /// <paramref name="cancellationToken"/> fires first (the host's shutdown timeout, e.g. while the
    /// database is down), the writer gives up and logs how many rows were not written.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Complete();
        using var registration = cancellationToken.Register(
            static state => ((CancellationTokenSource)state!).Cancel(), _abort);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
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
        var lanes = new Task[_lanes];
        for (var i = 0; i < lanes.Length; i++)
        {
            lanes[i] = Task.Run(() => RunAsync(new Lane(Math.Min(_batchSize, 100_000))));
        }

        await Task.WhenAll(lanes).ConfigureAwait(false);
        if (_abort.IsCancellationRequested)
        {
            StorageLog.WriterAborted(_logger, _channel.Count + Volatile.Read(ref _inFlight));
        }

        StorageLog.WriterStopped(_logger, RowsWritten, BatchesWritten);
    }

    /// <summary>One writer loop: until the channel is completed and empty, or the writer is aborted.</summary>
    private async Task RunAsync(Lane lane)
    {
        var abort = _abort.Token;
        var batch = lane.Batch;
        try
        {
            while (await _channel.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                await FillAsync(batch, abort).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    Interlocked.Add(ref _inFlight, batch.Count);
                    await WriteAsync(lane, 0, batch.Count, abort).ConfigureAwait(false);
                    Interlocked.Add(ref _inFlight, -batch.Count);
                    batch.Clear();
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            // Counted by RunLanesAsync: the batch is still in flight.
        }
    }

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

    /// <summary>Writes records [start, start + count) until they are committed (or isolated as invalid).</summary>
    private async Task WriteAsync(Lane lane, int start, int count, CancellationToken abort)
    {
        var batch = lane.Batch;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteOnceAsync(lane, start, count, abort).ConfigureAwait(false);
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
                if (IsInvalidData(e))
                {
                    if (count == 1)
                    {
                        Interlocked.Increment(ref _rowsRejected);
                        _metrics.Rejected();
                        StorageLog.RecordRejected(_logger, e, batch[start].TimeFlowEndMs, batch[start].Tenant);
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

                var delay = Backoff(attempt);
                StorageLog.BatchFailed(_logger, e, count, attempt, delay);
                await Task.Delay(delay, _time, abort).ConfigureAwait(false);
            }
        }
    }

    private async Task WriteOnceAsync(Lane lane, int start, int count, CancellationToken abort)
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

        rollups.Complete();

        var connection = await _dataSource.OpenConnectionAsync(abort).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (days.Count > 0)
            {
                await _partitions.EnsureAsync(connection, days, abort).ConfigureAwait(false);
            }

            var transaction = await connection.BeginTransactionAsync(abort).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var copied = await FlowCopy.WriteAsync(connection, batch, start, count, lane.Macs, abort)
                    .ConfigureAwait(false);
                if (copied != (ulong)count)
                {
                    throw new InvalidOperationException(
                        $"COPY reported {copied} rows for a batch of {count}");
                }

                var rollupRows = 0;
                for (var level = 0; level < RollupLevel.All.Count; level++)
                {
                    rollupRows += await RollupUpsert.WriteAsync(connection, transaction, RollupLevel.All[level],
                        rollups.Level(level), abort).ConfigureAwait(false);
                }
                await transaction.CommitAsync(abort).ConfigureAwait(false);

                Interlocked.Add(ref _rowsWritten, count);
                Interlocked.Increment(ref _batches);
                _metrics.Written(count, rollupRows, _time.GetElapsedTime(started).TotalSeconds);
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

    /// <summary>
    /// Errors that retrying cannot fix: the database refusing the data itself (class 22, 23 except a
    /// missing partition) or the client failing on a record (a value it cannot encode, a malformed
    /// record). Database, network and state errors are retried instead, so an outage or a schema
    /// problem never discards data.
    /// </summary>
    internal static bool IsInvalidData(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("22", StringComparison.Ordinal)
            || (pg.SqlState.StartsWith("23", StringComparison.Ordinal)
                && pg.SqlState != PostgresErrorCodes.CheckViolation),
        NpgsqlException or IOException or TimeoutException or InvalidOperationException
            or ObjectDisposedException or OutOfMemoryException => false,
        _ => true,
    };

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

        public MacAddressCache Macs { get; } = new();

        public List<DateOnly> Days { get; } = [];
    }
}
