using System.Diagnostics.Metrics;
using NetObserv.Flows.Ipfix;

namespace NetObserv.Server.Ingest;

/// <summary>
/// The collector's counters as instruments of the <c>NetObserv.Ipfix</c> meter, read when metrics are
/// collected (nothing is recorded per packet): packets, records, options records, templates, drops by reason,
/// the receive queue depth and the kernel's drops on the sockets.
/// </summary>
internal sealed class IpfixMetrics
{
    public const string MeterName = "NetObserv.Ipfix";

    public IpfixMetrics(IMeterFactory meterFactory, IpfixDecodeCounters counters, Func<int> queueDepth,
        Func<long> socketDrops)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(new MeterOptions(MeterName));
        meter.CreateObservableCounter("netobserv.ipfix.packets", () => counters.Packets, "{packet}",
            "IPFIX and NetFlow v9 packets decoded");
        meter.CreateObservableCounter("netobserv.ipfix.records", () => counters.Records, "{record}",
            "Flow records decoded from IPFIX and NetFlow v9");
        meter.CreateObservableCounter("netobserv.ipfix.options_records", () => counters.OptionsRecords, "{record}",
            "Options records decoded (sampler, system init time)");
        meter.CreateObservableCounter("netobserv.ipfix.templates", () => counters.Templates, "{template}",
            "Templates and options templates received");
        meter.CreateObservableCounter("netobserv.ipfix.drops", () => Drops(counters), "{event}",
            "Packets, sets or records dropped, by reason");
        meter.CreateObservableGauge("netobserv.ipfix.queue", queueDepth, "{packet}",
            "Packets waiting for the decoder");
        meter.CreateObservableCounter("netobserv.ipfix.socket_drops", socketDrops, "{packet}",
            "Datagrams the kernel dropped on the collector's sockets because their receive buffer was full "
            + "(see Ipfix:ReceiveBufferBytes and net.core.rmem_max)");
    }

    private static List<Measurement<long>> Drops(IpfixDecodeCounters counters)
    {
        var reasons = IpfixDecodeCounters.Reasons;
        var measurements = new List<Measurement<long>>(reasons.Length);
        foreach (var reason in reasons)
        {
            measurements.Add(new Measurement<long>(counters.Dropped(reason),
                new KeyValuePair<string, object?>("reason", ReasonName(reason))));
        }

        return measurements;
    }

    private static string ReasonName(IpfixDropReason reason) => reason switch
    {
        IpfixDropReason.TruncatedHeader => "truncated_header",
        IpfixDropReason.UnknownVersion => "unknown_version",
        IpfixDropReason.BadMessageLength => "bad_message_length",
        IpfixDropReason.BadSetLength => "bad_set_length",
        IpfixDropReason.BadTemplate => "bad_template",
        IpfixDropReason.TemplateLimit => "template_limit",
        IpfixDropReason.MissingTemplate => "missing_template",
        IpfixDropReason.BadRecord => "bad_record",
        IpfixDropReason.CounterOutOfRange => "counter_out_of_range",
        IpfixDropReason.QueueFull => "queue_full",
        IpfixDropReason.ChannelFull => "channel_full",
        _ => "none",
    };
}
