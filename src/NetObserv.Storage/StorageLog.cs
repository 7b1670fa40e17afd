using Microsoft.Extensions.Logging;

namespace NetObserv.Storage;

internal static partial class StorageLog
{
    [LoggerMessage(EventId = 2001, EventName = "ManagedPostgresStarted", Level = LogLevel.Information,
        Message = "Managed PostgreSQL running in {DataDirectory} on 127.0.0.1:{Port} (psql: PGPASSFILE={DataDirectory}.pgpass psql -h 127.0.0.1 -p {Port} -U netobserv netobserv)")]
    public static partial void ManagedPostgresStarted(ILogger logger, string dataDirectory, int port);

    [LoggerMessage(EventId = 2002, EventName = "Migrated", Level = LogLevel.Information,
        Message = "Storage mode {Mode}; {Applied} migration(s) applied")]
    public static partial void Migrated(ILogger logger, StorageMode mode, int applied);

    [LoggerMessage(EventId = 2003, EventName = "TimescaleDbNotUsed", Level = LogLevel.Information,
        Message = "Storage:TimescaleDb is auto and TimescaleDB is not used, native partitions instead: {Reason}")]
    public static partial void TimescaleDbNotUsed(ILogger logger, string reason);

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

    [LoggerMessage(EventId = 2014, EventName = "RecordRejected", Level = LogLevel.Debug,
        Message = "The database refused a flow record (time_end {TimeEndMs}, tenant {Tenant}, SQLSTATE {SqlState}); kept in flows_rejected")]
    public static partial void RecordRejected(ILogger logger, Exception exception, long timeEndMs, string? tenant, string sqlState);

    [LoggerMessage(EventId = 2015, EventName = "BatchSplit", Level = LogLevel.Debug,
        Message = "The database refused a batch of {Rows} rows; writing it in halves to isolate the bad record(s)")]
    public static partial void BatchSplit(ILogger logger, Exception exception, int rows);

    [LoggerMessage(EventId = 2017, EventName = "RowsRejected", Level = LogLevel.Warning,
        Message = "The database refused {Rejected} of the {Rows} rows of {Source} (first: SQLSTATE {SqlState}: {Error}); the other rows were stored, the refused ones kept in flows_rejected ({NotKept} could not be kept: table full or failing)")]
    public static partial void RowsRejected(ILogger logger, int rejected, int rows, string source, string? sqlState,
        string? error, int notKept);

    [LoggerMessage(EventId = 2018, EventName = "RejectedNotKept", Level = LogLevel.Warning,
        Message = "A flow record the database refused (SQLSTATE {SqlState}) could not be kept in flows_rejected either; it is dropped")]
    public static partial void RejectedNotKept(ILogger logger, Exception exception, string sqlState);

    [LoggerMessage(EventId = 2016, EventName = "WriterAborted", Level = LogLevel.Error,
        Message = "Shutdown timed out before {Rows} accepted rows were written and the spill journal could not take them (off, full or failing): they are lost")]
    public static partial void WriterAborted(ILogger logger, long rows);

    [LoggerMessage(EventId = 2030, EventName = "SpillStarted", Level = LogLevel.Warning,
        Message = "The database is unavailable: batches now go to the spill journal in {Directory}")]
    public static partial void SpillStarted(ILogger logger, Exception? exception, string directory);

    [LoggerMessage(EventId = 2031, EventName = "SpillStopped", Level = LogLevel.Information,
        Message = "The database is reachable again: batches go to the database; {Files} spill file(s) ({Bytes} bytes) to replay")]
    public static partial void SpillStopped(ILogger logger, int files, long bytes);

    [LoggerMessage(EventId = 2032, EventName = "SpillFull", Level = LogLevel.Error,
        Message = "The spill journal is full ({Bytes} of {MaxBytes} bytes): batches are retried in memory and ingest is slowed down")]
    public static partial void SpillFull(ILogger logger, long bytes, long maxBytes);

    [LoggerMessage(EventId = 2033, EventName = "SpillFailed", Level = LogLevel.Error,
        Message = "Writing a batch of {Rows} rows to the spill journal failed; it is retried in memory")]
    public static partial void SpillFailed(ILogger logger, Exception exception, int rows);

    [LoggerMessage(EventId = 2034, EventName = "SpillReplayed", Level = LogLevel.Debug,
        Message = "Replayed spill file {File}: {Rows} rows written")]
    public static partial void SpillReplayed(ILogger logger, string file, int rows);

    [LoggerMessage(EventId = 2035, EventName = "SpillAlreadyReplayed", Level = LogLevel.Warning,
        Message = "Spill file {File} was already written before a restart; deleted without writing it again")]
    public static partial void SpillAlreadyReplayed(ILogger logger, string file);

    [LoggerMessage(EventId = 2036, EventName = "SpillBadFile", Level = LogLevel.Error,
        Message = "Spill file {File} cannot be read; moved to {Target}")]
    public static partial void SpillBadFile(ILogger logger, Exception exception, string file, string target);

    [LoggerMessage(EventId = 2037, EventName = "SpillReplayFailed", Level = LogLevel.Warning,
        Message = "Replaying spill file {File} failed; it stays in the journal and is tried again")]
    public static partial void SpillReplayFailed(ILogger logger, Exception exception, string file);

    [LoggerMessage(EventId = 2038, EventName = "SpilledAtShutdown", Level = LogLevel.Warning,
        Message = "The database was unavailable at shutdown ({Error}): {Rows} rows went to the spill journal in {Directory}; they are written when the backend next runs")]
    public static partial void SpilledAtShutdown(ILogger logger, Exception? exception, string? error, long rows, string directory);

    [LoggerMessage(EventId = 2041, EventName = "SpilledOnShutdownTimeout", Level = LogLevel.Warning,
        Message = "The host's shutdown timeout passed before {Rows} accepted rows were written (last write error: {Error}): they went to the spill journal in {Directory}; they are written when the backend next runs")]
    public static partial void SpilledOnShutdownTimeout(ILogger logger, long rows, string error, string directory);

    [LoggerMessage(EventId = 2090, EventName = "RollupCompactionFailed", Level = LogLevel.Warning,
        Message = "Merging the rollup deltas failed; they stay in flow_rollup_1m_delta (the views still count them) and are merged at the next turn")]
    public static partial void RollupCompactionFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2039, EventName = "SpillJournalFound", Level = LogLevel.Information,
        Message = "Spill journal in {Directory} holds {Files} file(s) ({Bytes} bytes) to replay")]
    public static partial void SpillJournalFound(ILogger logger, string directory, int files, long bytes);

    [LoggerMessage(EventId = 2040, EventName = "SpillJournalReplayed", Level = LogLevel.Information,
        Message = "Spill journal replayed: {Rows} rows written from it since start, {BadFiles} unreadable file(s) moved to bad/")]
    public static partial void SpillJournalReplayed(ILogger logger, long rows, long badFiles);

    [LoggerMessage(EventId = 2020, EventName = "PartitionCreated", Level = LogLevel.Information,
        Message = "Created flow partition {Partition}")]
    public static partial void Created(ILogger logger, string partition);

    [LoggerMessage(EventId = 2021, EventName = "PartitionDropped", Level = LogLevel.Information,
        Message = "Dropped flow partition {Partition} (past retention)")]
    public static partial void Dropped(ILogger logger, string partition);

    [LoggerMessage(EventId = 2022, EventName = "RowsPruned", Level = LogLevel.Debug,
        Message = "Deleted {Rows} rows past retention from {Table}")]
    public static partial void RowsPruned(ILogger logger, long rows, string table);

    [LoggerMessage(EventId = 2023, EventName = "MaintenanceFailed", Level = LogLevel.Warning,
        Message = "Storage maintenance (partitions, retention) failed; retrying in {Delay}")]
    public static partial void MaintenanceFailed(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(EventId = 2024, EventName = "RetentionPolicySet", Level = LogLevel.Information,
        Message = "TimescaleDB retention policy on flows set to {Retention}")]
    public static partial void RetentionPolicySet(ILogger logger, TimeSpan retention);
}
