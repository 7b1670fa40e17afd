using NetObserv.Flows.Validation;

namespace NetObserv.Server.Ingest;

internal static partial class CollectorLog
{
    [LoggerMessage(EventId = 4101, EventName = "CollectorBusy", Level = LogLevel.Debug,
        Message = "Refused a Send: {Reason}")]
    public static partial void Busy(ILogger logger, string reason);

    [LoggerMessage(EventId = 4110, EventName = "CollectorInvalidRecords", Level = LogLevel.Debug,
        Message = "Dropped {Dropped} of {Records} records of a {Transport} message as invalid; first: {Reason}: {Detail}")]
    public static partial void Invalid(ILogger logger, string transport, int dropped, int records, string reason,
        FlowRejection detail);

    [LoggerMessage(EventId = 4111, EventName = "CollectorTooManyRecords", Level = LogLevel.Debug,
        Message = "Refused a Send of {Records} records: more than {Limit} per message")]
    public static partial void TooMany(ILogger logger, int records, int limit);
}
