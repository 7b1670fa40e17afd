namespace NetObserv.Server.Ingest;

internal static partial class CollectorLog
{
    [LoggerMessage(EventId = 4101, EventName = "CollectorBusy", Level = LogLevel.Debug,
        Message = "Refused a Send of {Records} records: ingest channel holds {Waiting} of {Capacity}")]
    public static partial void Busy(ILogger logger, int records, int waiting, int capacity);
}
