using Microsoft.Extensions.Logging;

namespace NetObserv.Storage.Journal;

internal static partial class JournalLog
{
    [LoggerMessage(EventId = 2050, EventName = "JournalOpened", Level = LogLevel.Information,
        Message = "Write-ahead journal in {Directory}: {Segments} segment(s), {Bytes} bytes, {Batches} batch(es) left by the previous run")]
    public static partial void Opened(ILogger logger, string directory, int segments, long bytes, int batches);

    [LoggerMessage(EventId = 2051, EventName = "JournalTailCut", Level = LogLevel.Warning,
        Message = "Journal segment {File} ends with {Bytes} bytes that are not a whole valid record (a write cut short by a crash); cut at offset {Offset}")]
    public static partial void TailCut(ILogger logger, string file, long bytes, long offset);

    [LoggerMessage(EventId = 2052, EventName = "JournalFull", Level = LogLevel.Error,
        Message = "The journal is full ({Bytes} of {MaxBytes} bytes, Storage:JournalMaxBytes): ingest answers with backpressure until the database catches up")]
    public static partial void Full(ILogger logger, long bytes, long maxBytes);

    [LoggerMessage(EventId = 2053, EventName = "JournalWriteFailed", Level = LogLevel.Error,
        Message = "Writing {Batches} batch(es) to the journal failed; they are refused (backpressure)")]
    public static partial void WriteFailed(ILogger logger, Exception exception, int batches);

    [LoggerMessage(EventId = 2054, EventName = "JournalDeleteFailed", Level = LogLevel.Warning,
        Message = "Deleting the applied journal segment {File} failed; it is tried again later")]
    public static partial void DeleteFailed(ILogger logger, Exception exception, string file);

    [LoggerMessage(EventId = 2055, EventName = "JournalRecovered", Level = LogLevel.Information,
        Message = "Journal {Id}: the database holds everything through position {Through}; {Pending} batch(es) to replay")]
    public static partial void Recovered(ILogger logger, string id, long through, int pending);

    [LoggerMessage(EventId = 2056, EventName = "JournalReplayFailed", Level = LogLevel.Warning,
        Message = "Replaying {Batches} journal batch(es) failed; retrying")]
    public static partial void ReplayFailed(ILogger logger, Exception exception, int batches);

    [LoggerMessage(EventId = 2057, EventName = "JournalReplayed", Level = LogLevel.Information,
        Message = "Journal replayed: {Rows} rows from {Batches} batch(es) written")]
    public static partial void Replayed(ILogger logger, long rows, long batches);

    [LoggerMessage(EventId = 2058, EventName = "JournalBadRecord", Level = LogLevel.Error,
        Message = "Journal position {Position} cannot be read back; it is skipped")]
    public static partial void BadRecord(ILogger logger, Exception exception, long position);
}
