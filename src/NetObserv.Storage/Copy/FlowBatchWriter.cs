using System.Diagnostics.Metrics;
using System.Text;
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
/// transaction: a binary COPY into <c>flows</c> plus additive upserts of the batch's sums into
/// <c>flow_rollup_1m</c> and <c>flow_rollup_1h</c>. In native mode the daily partitions a batch needs
/// are created first, so late or future data is never refused.
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
    private readonly RollupAggregator _rollups = new();
    private readonly MacAddressCache _macs = new();
    private readonly List<DateOnly> _days = [];
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
    }

    public override void Dispose()
    {
        base.Dispose();
        _abort.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        StorageLog.WriterStarted(_logger, _batchSize, _flushInterval);
        var abort = _abort.Token;
        var batch = new List<FlowRecord>(Math.Min(_batchSize, 100_000));
        using var stopping = stoppingToken.Register(static state => ((FlowChannel)state!).Complete(), _channel);
        try
        {
            while (await _channel.WaitToReadAsync(abort).ConfigureAwait(false))
            {
                await FillAsync(batch, abort).ConfigureAwait(false);
                if (batch.Count > 0)
                {
                    Volatile.Write(ref _inFlight, batch.Count);
                    await WriteAsync(batch, 0, batch.Count, abort).ConfigureAwait(false);
                    batch.Clear();
                    Volatile.Write(ref _inFlight, 0);
                }
            }
        }
        catch (OperationCanceledException) when (abort.IsCancellationRequested)
        {
            StorageLog.WriterAborted(_logger, batch.Count + _channel.Count);
        }

        StorageLog.WriterStopped(_logger, RowsWritten, BatchesWritten);
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
    private async Task WriteAsync(List<FlowRecord> batch, int start, int count, CancellationToken abort)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await WriteOnceAsync(batch, start, count, abort).ConfigureAwait(false);
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
                    await WriteAsync(batch, start, half, abort).ConfigureAwait(false);
                    await WriteAsync(batch, start + half, count - half, abort).ConfigureAwait(false);
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

    private async Task WriteOnceAsync(List<FlowRecord> batch, int start, int count, CancellationToken abort)
    {
        var started = _time.GetTimestamp();
        _rollups.Clear();
        _days.Clear();
        for (var i = start; i < start + count; i++)
        {
            var record = batch[i];
            var timeEnd = FlowTime.Clamp(record.TimeFlowEndMs);
            _rollups.Add(record, timeEnd);
            if (_mode == StorageMode.Native)
            {
                AddDay(FlowPartitions.DayOf(timeEnd));
            }
        }

        _rollups.Complete();

        var connection = await _dataSource.OpenConnectionAsync(abort).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (_days.Count > 0)
            {
                await _partitions.EnsureAsync(connection, _days, abort).ConfigureAwait(false);
            }

            var transaction = await connection.BeginTransactionAsync(abort).ConfigureAwait(false);
            await using (transaction.ConfigureAwait(false))
            {
                var copied = await FlowCopy.WriteAsync(connection, batch, start, count, _macs, abort)
                    .ConfigureAwait(false);
                if (copied != (ulong)count)
                {
                    throw new InvalidOperationException(
                        $"COPY reported {copied} rows for a batch of {count}");
                }

                var rollupRows = await RollupUpsert.WriteAsync(connection, transaction, hourly: false,
                    _rollups.Minutes, abort).ConfigureAwait(false);
                rollupRows += await RollupUpsert.WriteAsync(connection, transaction, hourly: true,
                    _rollups.Hours, abort).ConfigureAwait(false);
                await transaction.CommitAsync(abort).ConfigureAwait(false);

                Interlocked.Add(ref _rowsWritten, count);
                Interlocked.Increment(ref _batches);
                _metrics.Written(count, rollupRows, _time.GetElapsedTime(started).TotalSeconds);
            }
        }
    }

    private void AddDay(DateOnly day)
    {
        // Batches span one or two days: a short list beats a set.
        for (var i = _days.Count - 1; i >= 0; i--)
        {
            if (_days[i] == day)
            {
                return;
            }
        }

        _days.Add(day);
    }

    /// <summary>Errors that retrying cannot fix: the data itself (class 22, 23) or a value the client cannot encode.</summary>
    internal static bool IsInvalidData(Exception e) => e switch
    {
        PostgresException pg => pg.SqlState.StartsWith("22", StringComparison.Ordinal)
            || (pg.SqlState.StartsWith("23", StringComparison.Ordinal)
                && pg.SqlState != PostgresErrorCodes.CheckViolation),
        EncoderFallbackException or InvalidCastException or OverflowException => true,
        _ => false,
    };

    internal static TimeSpan Backoff(int attempt)
    {
        var ms = 200 * Math.Pow(2, Math.Min(attempt - 1, 16));
        return TimeSpan.FromMilliseconds(Math.Min(ms, s_maximumBackoff.TotalMilliseconds));
    }
}
