
namespace NetObserv.Server.Ingest.LokiPush;

internal static partial class LokiPushLog
{
    [LoggerMessage(EventId = 4900, EventName = "LokiPushAccepted", Level = LogLevel.Debug,
        Message = "Loki push for tenant {Tenant}: {Accepted} lines accepted, {Rejected} rejected")]
    public static partial void Pushed(ILogger logger, string tenant, int accepted, int rejected);

    [LoggerMessage(EventId = 4901, EventName = "LokiPushLinesRejected", Level = LogLevel.Debug,
        Message = "Loki push for tenant {Tenant} rejected {Rejected} of {Lines} lines: {FirstError}")]
    public static partial void LinesRejected(ILogger logger, string tenant, int rejected, int lines, string firstError);

    [LoggerMessage(EventId = 4902, EventName = "LokiPushThrottled", Level = LogLevel.Debug,
        Message = "Loki push for tenant {Tenant} refused with 429: ingest channel full ({Lines} lines)")]
    public static partial void Throttled(ILogger logger, string tenant, int lines);

    [LoggerMessage(EventId = 4903, EventName = "LokiPushRefused", Level = LogLevel.Debug,
        Message = "Loki push refused with {Status}: {Reason}")]
    public static partial void Refused(ILogger logger, int status, string reason);
}
