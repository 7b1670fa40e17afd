using System.Diagnostics.Metrics;

namespace NetObserv.Server.Ingest;

/// <summary>
/// Counters of the gRPC collector on the <c>NetObserv.Ingest</c> meter, tagged <c>transport=grpc</c>:
/// <c>netobserv.ingest.records.received</c> (records in every <c>Send</c>) and
/// <c>netobserv.ingest.records.rejected</c> (by <c>reason</c>: <c>busy</c> when the ingest channel
/// was full). Records written are counted by the storage writer.
/// </summary>
internal sealed class CollectorMetrics
{
    public const string MeterName = "NetObserv.Ingest";

    private static readonly KeyValuePair<string, object?> s_transport = new("transport", "grpc");
    private static readonly KeyValuePair<string, object?> s_busy = new("reason", "busy");

    private readonly Counter<long> _received;
    private readonly Counter<long> _rejected;

    public CollectorMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(new MeterOptions(MeterName));
        _received = meter.CreateCounter<long>("netobserv.ingest.records.received", "{record}",
            "Flow records received by an ingest transport.");
        _rejected = meter.CreateCounter<long>("netobserv.ingest.records.rejected", "{record}",
            "Flow records refused by an ingest transport, by reason.");
    }

    public void Received(int records) => _received.Add(records, s_transport);

    public void RejectedBusy(int records) => _rejected.Add(records, s_transport, s_busy);
}
