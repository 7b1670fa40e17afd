using System.Diagnostics.Metrics;
using NetObserv.Flows.Validation;

namespace NetObserv.Server.Ingest;

/// <summary>
/// Counters of the ingest transports on the <c>NetObserv.Ingest</c> meter:
/// <c>netobserv.ingest.records.received</c> (records in every gRPC <c>Send</c>, <c>transport=grpc</c>) and
/// <c>netobserv.ingest.records.rejected</c> by <c>transport</c> (<c>grpc</c>, <c>ipfix</c>) and <c>reason</c>:
/// <c>busy</c> when the ingest channel was full (gRPC), <c>too_many_records</c> for a message past
/// <c>Ingest:MaxRecordsPerMessage</c> or the channel capacity (gRPC), or a <see cref="FlowRejectReason"/>
/// name (<c>text_too_long</c>, <c>value_out_of_range</c>, <c>counter_out_of_range</c>, <c>too_old</c>,
/// <c>too_far_in_future</c>, <c>start_after_end</c>, <c>too_many_interfaces</c>) for records dropped by
/// validation. Records written are counted by the storage writer.
/// <c>netobserv.ingest.extra_fields.dropped</c> counts the fields without a column dropped by any transport
/// (<see cref="FlowValidator.ExtraFieldsDropped"/>).
/// </summary>
internal sealed class CollectorMetrics
{
    public const string MeterName = "NetObserv.Ingest";
    public const string Grpc = "grpc";
    public const string Ipfix = "ipfix";

    private static readonly KeyValuePair<string, object?> s_transport = new("transport", Grpc);
    private static readonly KeyValuePair<string, object?> s_busy = new("reason", "busy");
    private static readonly KeyValuePair<string, object?> s_tooMany = new("reason", "too_many_records");

    private readonly Counter<long> _received;
    private readonly Counter<long> _rejected;

    public CollectorMetrics(IMeterFactory meterFactory, FlowValidator? validator = null)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(new MeterOptions(MeterName));
        if (validator is not null)
        {
            meter.CreateObservableCounter("netobserv.ingest.extra_fields.dropped", () => validator.ExtraFieldsDropped,
                "{field}", "Fields without a column dropped at ingest (nested too deep, a number out of bounds, "
                + "past the 8 KiB bound of a flow's extra fields, or structured metadata past 64 pairs per entry); the "
                + "rest of the flow is kept.");
        }

        _received = meter.CreateCounter<long>("netobserv.ingest.records.received", "{record}",
            "Flow records received by an ingest transport.");
        _rejected = meter.CreateCounter<long>("netobserv.ingest.records.rejected", "{record}",
            "Flow records refused or dropped by an ingest transport, by reason.");
    }

    public void Received(int records) => _received.Add(records, s_transport);

    public void RejectedBusy(int records) => _rejected.Add(records, s_transport, s_busy);

    public void RejectedTooMany(int records) => _rejected.Add(records, s_transport, s_tooMany);

    /// <summary>Counts records of <paramref name="transport"/> dropped because they failed validation.</summary>
    public void Invalid(string transport, FlowRejectReason reason, int records) =>
        _rejected.Add(records, new KeyValuePair<string, object?>("transport", transport),
            new KeyValuePair<string, object?>("reason", FlowValidator.ReasonName(reason)));
}
