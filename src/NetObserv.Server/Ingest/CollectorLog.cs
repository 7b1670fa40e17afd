namespace NetObserv.Server.Ingest;

internal static partial class CollectorLog
{
    [LoggerMessage(EventId = 4101, EventName = "CollectorBusy", Level = LogLevel.Debug,
        Message = "Refused a Send of {Records} records: ingest channel holds {Waiting} of {Capacity}")]
    public static partial void Busy(ILogger logger, int records, int waiting, int capacity);

    [LoggerMessage(EventId = 4102, EventName = "CollectorTls", Level = LogLevel.Information,
        Message = "gRPC ingest on port {Port} uses TLS (client certificate: {ClientCertificate})")]
    public static partial void Tls(ILogger logger, int port, string clientCertificate);
}
