using Microsoft.Extensions.Logging;

namespace NetObserv.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(EventId = 2001, EventName = "ManagedPostgresStarted", Level = LogLevel.Information,
        Message = "Managed PostgreSQL running in {DataDirectory} on 127.0.0.1:{Port}")]
    public static partial void ManagedPostgresStarted(ILogger logger, string dataDirectory, int port);

    [LoggerMessage(EventId = 2002, EventName = "Migrated", Level = LogLevel.Information,
        Message = "Storage mode {Mode}; {Applied} migration(s) applied")]
    public static partial void Migrated(ILogger logger, StorageMode mode, int applied);

    [LoggerMessage(EventId = 2010, EventName = "WriterStarted", Level = LogLevel.Information,
        Message = "Flow writer started: batches of up to {BatchSize} rows, flushed at least every {FlushInterval}, {Writers} concurrent writer(s)")]
    public static partial void WriterStarted(ILogger logger, int batchSize, TimeSpan flushInterval, int writers);

    [LoggerMessage(EventId = 2011, EventName = "WriterStopped", Level = LogLevel.Information,
        Message = "Flow writer stopped after writing {Rows} rows in {Batches} batches")]
    public static partial void WriterStopped(ILogger logger, long rows, long batches);

    [LoggerMessage(EventId = 2012, EventName = "BatchFailed", Level = LogLevel.Warning,
        Message = "Writing a batch of {Rows} rows failed (attempt {Attempt}); retrying in {Delay}")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int rows, int attempt, TimeSpan delay);

    [LoggerMessage(EventId = 2013, EventName = "BatchRecovered", Level = LogLevel.Information,
        Message = "A batch of {Rows} rows was written after {Attempts} attempts")]
    public static partial void BatchRecovered(ILogger logger, int rows, int attempts);

    [LoggerMessage(EventId = 2014, EventName = "RecordRejected", Level = LogLevel.Error,
        Message = "The database refused a flow record (time_end {TimeEndMs}, tenant {Tenant}); it is skipped")]
    public static partial void RecordRejected(ILogger logger, Exception exception, long timeEndMs, string tenant);

    [LoggerMessage(EventId = 2015, EventName = "BatchSplit", Level = LogLevel.Warning,
        Message = "The database refused a batch of {Rows} rows; writing it in halves to isolate the bad record(s)")]
    public static partial void BatchSplit(ILogger logger, Exception exception, int rows);

    [LoggerMessage(EventId = 2016, EventName = "WriterAborted", Level = LogLevel.Error,
        Message = "Shutdown timed out while the database was unavailable: {Rows} accepted rows were not written")]
    public static partial void WriterAborted(ILogger logger, long rows);

    [LoggerMessage(EventId = 2020, EventName = "PartitionCreated", Level = LogLevel.Information,
        Message = "Created flow partition {Partition}")]
    public static partial void Created(ILogger logger, string partition);

    [LoggerMessage(EventId = 2021, EventName = "PartitionDropped", Level = LogLevel.Information,
        Message = "Dropped flow partition {Partition} (past retention)")]
    public static partial void Dropped(ILogger logger, string partition);

    [LoggerMessage(EventId = 2022, EventName = "RollupsPruned", Level = LogLevel.Debug,
        Message = "Deleted {Rows} rollup rows past retention from {Table}")]
    public static partial void RollupsPruned(ILogger logger, long rows, string table);

    [LoggerMessage(EventId = 2023, EventName = "MaintenanceFailed", Level = LogLevel.Warning,
        Message = "Storage maintenance (partitions, retention) failed; retrying in {Delay}")]
    public static partial void MaintenanceFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 2024, EventName = "RetentionPolicySet", Level = LogLevel.Information,
        Message = "TimescaleDB retention policy on flows set to {Retention}")]
    public static partial void RetentionPolicySet(ILogger logger, TimeSpan retention);
}
