using Microsoft.Extensions.Logging;

namespace NetObserv.Query.Loki;

internal static partial class QueryLog
{
    [LoggerMessage(EventId = 3001, EventName = "QueryRejected", Level = LogLevel.Debug,
        Message = "query rejected ({Path}): {Reason}")]
    public static partial void Rejected(ILogger logger, string path, string reason);

    [LoggerMessage(EventId = 3002, EventName = "QueryFailed", Level = LogLevel.Error,
        Message = "query failed ({Path}), answered 500 with id {CorrelationId}")]
    public static partial void Failed(ILogger logger, string path, string correlationId, Exception exception);

    [LoggerMessage(EventId = 3003, EventName = "QueryTimedOut", Level = LogLevel.Warning,
        Message = "query timed out ({Path})")]
    public static partial void TimedOut(ILogger logger, string path, Exception exception);
}
