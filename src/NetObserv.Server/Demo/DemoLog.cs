namespace NetObserv.Server.Demo;

/// <summary>Log events of the demo (4700-4719).</summary>
internal static partial class DemoLog
{
    [LoggerMessage(EventId = 4701, EventName = "DemoBackfillStarted", Level = LogLevel.Information,
        Message = "Demo: backfilling {Hours:0.#} h of traffic ({Records} records, each standing for {Weight} flow(s))")]
    public static partial void BackfillStarted(ILogger logger, double hours, long records, int weight);

    [LoggerMessage(EventId = 4702, EventName = "DemoBackfillProgress", Level = LogLevel.Information,
        Message = "Demo: backfill {Percent}% ({Records} records sent)")]
    public static partial void BackfillProgress(ILogger logger, int percent, long records);

    [LoggerMessage(EventId = 4703, EventName = "DemoBackfillDone", Level = LogLevel.Information,
        Message = "Demo: backfilled {Records} records in {Seconds:0.0} s")]
    public static partial void BackfillDone(ILogger logger, long records, double seconds);

    [LoggerMessage(EventId = 4704, EventName = "DemoSendFailed", Level = LogLevel.Warning,
        Message = "Demo: sending to the gRPC collector failed ({Status}); retrying")]
    public static partial void SendFailed(ILogger logger, string status);

    [LoggerMessage(EventId = 4705, EventName = "DemoNoIngest", Level = LogLevel.Error,
        Message = "Demo: this server has no gRPC ingest listener (role {Role}); the demo needs --role all")]
    public static partial void NoIngest(ILogger logger, string role);

    [LoggerMessage(EventId = 4706, EventName = "DemoNoData", Level = LogLevel.Warning,
        Message = "Demo: the example query still returns no data after {Seconds} s")]
    public static partial void NoData(ILogger logger, int seconds);

    [LoggerMessage(EventId = 4707, EventName = "DemoStopped", Level = LogLevel.Error,
        Message = "Demo: traffic stopped after an unexpected error")]
    public static partial void Stopped(ILogger logger, Exception exception);
}
