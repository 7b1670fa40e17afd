using System.Text;

namespace NetObserv.Flows.Validation;

/// <summary>
/// Checks a decoded flow against what the store can hold, before it is accepted at the edge (gRPC, IPFIX /
/// NetFlow v9, Loki push), so one bad record is refused alone and never reaches the batch writer:
/// <list type="bullet">
/// <item>times: <c>TimeFlowEndMs</c> within [now − retention, now + skew] (Loki's
/// <c>reject_old_samples_max_age</c> and <c>creation_grace_period</c>), so partitions are only created
/// inside the retention window; <c>TimeFlowStartMs</c> within the same window and not after the end
/// (0 means absent and is accepted);</item>
/// <item>text lengths: the caps of <see cref="FlowLimits"/>, in UTF-8 bytes;</item>
/// <item>numbers: ports and ethertype 0-65535, protocol 0-255, flow direction 0-2, interface direction
/// 0-1, DSCP 0-63, ICMP type and code 0-255, TCP flags, DNS id and flags 0-65535, sampling and DNS errno
/// not negative, MACs within 48 bits;</item>
/// <item>counters: bytes, packets, drop bytes and packets, DNS latency and RTT not negative, and bytes and
/// packets times the sampling interval within <see cref="long.MaxValue"/>.</item>
/// </list>
/// Thread-safe; allocation-free for valid flows.
/// </summary>
public sealed class FlowValidator
{
    private static readonly FlowRejectReason[] s_reasons = Enum.GetValues<FlowRejectReason>();

    private readonly TimeProvider _time;
    private readonly long _retentionMs;
    private readonly long _maxFutureSkewMs;
    private long _extraFieldsDropped;

    /// <param name="retention">How old a flow may be (<c>Storage:Retention</c>).</param>
    /// <param name="maxFutureSkew">How far in the future a flow may end (<c>Ingest:MaxFutureSkew</c>).</param>
    /// <param name="timeProvider">The clock.</param>
    public FlowValidator(TimeSpan retention, TimeSpan maxFutureSkew, TimeProvider timeProvider)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(retention, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxFutureSkew, TimeSpan.Zero);
        ArgumentNullException.ThrowIfNull(timeProvider);
        Retention = retention;
        MaxFutureSkew = maxFutureSkew;
        _time = timeProvider;
        _retentionMs = (long)retention.TotalMilliseconds;
        _maxFutureSkewMs = (long)maxFutureSkew.TotalMilliseconds;
    }

    /// <summary>How old a flow may be.</summary>
    public TimeSpan Retention { get; }

    /// <summary>How far in the future a flow may end.</summary>
    public TimeSpan MaxFutureSkew { get; }

    /// <summary>
    /// Fields without a column that decoders dropped (<see cref="FlowRecord.ExtraFieldsDropped"/>: too deep, a number
    /// out of bounds, past the size bound) in the records validated so far.
    /// </summary>
    public long ExtraFieldsDropped => Interlocked.Read(ref _extraFieldsDropped);

    /// <summary>Every reason except <see cref="FlowRejectReason.None"/>.</summary>
    public static ReadOnlySpan<FlowRejectReason> Reasons => s_reasons.AsSpan(1);

    /// <summary>Now, in Unix epoch milliseconds, for <see cref="Validate(FlowRecord, long)"/> over a batch.</summary>
    public long NowMs() => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>The reason as a counter tag and push reason (<c>text_too_long</c>).</summary>
    public static string ReasonName(FlowRejectReason reason) => reason switch
    {
        FlowRejectReason.TextTooLong => "text_too_long",
        FlowRejectReason.TooManyInterfaces => "too_many_interfaces",
        FlowRejectReason.ValueOutOfRange => "value_out_of_range",
        FlowRejectReason.CounterOutOfRange => "counter_out_of_range",
        FlowRejectReason.TooOld => "too_old",
        FlowRejectReason.TooFarInFuture => "too_far_in_future",
        FlowRejectReason.StartAfterEnd => "start_after_end",
        _ => "none",
    };

    /// <summary>The first reason <paramref name="record"/> cannot be stored now, or a result that is not rejected.</summary>
    public FlowRejection Validate(FlowRecord record) => Validate(record, NowMs());

    /// <summary>The first reason <paramref name="record"/> cannot be stored at <paramref name="nowMs"/>.</summary>
    public FlowRejection Validate(FlowRecord record, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.ExtraFieldsDropped != 0)
        {
            Interlocked.Add(ref _extraFieldsDropped, record.ExtraFieldsDropped);
        }

        var oldest = nowMs - _retentionMs;
        var newest = nowMs + _maxFutureSkewMs;
        var end = record.TimeFlowEndMs;
        if (end < oldest)
        {
            return new(FlowRejectReason.TooOld, "TimeFlowEndMs", end, oldest);
        }

        if (end > newest)
        {
            return new(FlowRejectReason.TooFarInFuture, "TimeFlowEndMs", end, newest);
        }

        var start = record.TimeFlowStartMs;
        if (start != 0)
        {
            if (start > end)
            {
                return new(FlowRejectReason.StartAfterEnd, "TimeFlowStartMs", start, end);
            }

            if (start < oldest)
            {
                return new(FlowRejectReason.TooOld, "TimeFlowStartMs", start, oldest);
            }
        }

        var numbers = Numbers(record);
        if (numbers.IsRejected)
        {
            return numbers;
        }

        var counters = Counters(record);
        return counters.IsRejected ? counters : Texts(record);
    }

    private static FlowRejection Numbers(FlowRecord r)
    {
        FlowRejection result = default;
        _ = Range(r.SrcPort, ushort.MaxValue, "SrcPort", ref result)
            && Range(r.DstPort, ushort.MaxValue, "DstPort", ref result)
            && Range(r.Proto, byte.MaxValue, "Proto", ref result)
            && Range(r.Etype, ushort.MaxValue, "Etype", ref result)
            && Range(r.Flags, ushort.MaxValue, "Flags", ref result)
            && Range(r.Dscp, 63, "Dscp", ref result)
            && Range(r.IcmpType, byte.MaxValue, "IcmpType", ref result)
            && Range(r.IcmpCode, byte.MaxValue, "IcmpCode", ref result)
            && Range(r.Sampling, int.MaxValue, "Sampling", ref result)
            && Range(r.FlowDirection, 2, "FlowDirection", ref result)
            && Range(r.DnsId, ushort.MaxValue, "DnsId", ref result)
            && Range(r.DnsFlags, ushort.MaxValue, "DnsFlags", ref result)
            && Range(r.DnsErrno, int.MaxValue, "DnsErrno", ref result)
            && Mac(r.SrcMac, "SrcMac", ref result)
            && Mac(r.DstMac, "DstMac", ref result)
            && Interfaces(r, ref result);
        return result;
    }

    private static bool Interfaces(FlowRecord r, ref FlowRejection result)
    {
        if (r.Interfaces is { Length: > FlowLimits.MaxInterfaces } names)
        {
            result = new(FlowRejectReason.TooManyInterfaces, "Interfaces", names.Length, FlowLimits.MaxInterfaces);
            return false;
        }

        if (r.IfDirections is not { } directions)
        {
            return true;
        }

        if (directions.Length > FlowLimits.MaxInterfaces)
        {
            result = new(FlowRejectReason.TooManyInterfaces, "IfDirections", directions.Length, FlowLimits.MaxInterfaces);
            return false;
        }

        foreach (var direction in directions)
        {
            if (!Range(direction, 1, "IfDirections", ref result))
            {
                return false;
            }
        }

        return true;
    }

    private static FlowRejection Counters(FlowRecord r)
    {
        FlowRejection result = default;
        var factor = r.SamplingFactor;
        _ = Counter(r.Bytes, "Bytes", ref result)
            && Counter(r.Packets, "Packets", ref result)
            && Sampled(r.Bytes, factor, "Bytes * Sampling", ref result)
            && Sampled(r.Packets, factor, "Packets * Sampling", ref result)
            && Counter(r.PktDropBytes, "PktDropBytes", ref result)
            && Counter(r.PktDropPackets, "PktDropPackets", ref result)
            && Counter(r.DnsLatencyMs, "DnsLatencyMs", ref result)
            && Counter(r.TimeFlowRttNs, "TimeFlowRttNs", ref result);
        return result;
    }

    private static FlowRejection Texts(FlowRecord r)
    {
        FlowRejection result = default;
        _ = Text(r.Tenant, FlowLimits.TenantBytes, "Tenant", ref result)
            && Kubernetes(r.Src, source: true, ref result)
            && Kubernetes(r.Dst, source: false, ref result)
            && Text(r.K8SClusterName, FlowLimits.NameBytes, "K8S_ClusterName", ref result)
            && Text(r.K8SFlowLayer, FlowLimits.LabelValueBytes, "K8S_FlowLayer", ref result)
            && Text(r.RecordType, FlowLimits.LabelValueBytes, "_RecordType", ref result)
            && Text(r.DnsName, FlowLimits.NameBytes, "DnsName", ref result)
            && Text(r.HashId, FlowLimits.TextBytes, "_HashId", ref result)
            && Text(r.PktDropLatestState, FlowLimits.TextBytes, "PktDropLatestState", ref result)
            && Text(r.PktDropLatestDropCause, FlowLimits.TextBytes, "PktDropLatestDropCause", ref result)
            && Text(r.ExtraFields, FlowLimits.ExtraFieldsBytes, "ExtraFields", ref result);
        if (result.IsRejected || r.Interfaces is not { } interfaces)
        {
            return result;
        }

        foreach (var name in interfaces)
        {
            if (!Text(name, FlowLimits.TextBytes, "Interfaces", ref result))
            {
                break;
            }
        }

        return result;
    }

    private static bool Kubernetes(KubernetesMetadata k, bool source, ref FlowRejection result)
    {
        var src = source;
        return Text(k.Name, FlowLimits.NameBytes, src ? "SrcK8S_Name" : "DstK8S_Name", ref result)
            && Text(k.Namespace, FlowLimits.NameBytes, src ? "SrcK8S_Namespace" : "DstK8S_Namespace", ref result)
            && Text(k.OwnerName, FlowLimits.NameBytes, src ? "SrcK8S_OwnerName" : "DstK8S_OwnerName", ref result)
            && Text(k.HostName, FlowLimits.NameBytes, src ? "SrcK8S_HostName" : "DstK8S_HostName", ref result)
            && Text(k.Type, FlowLimits.LabelValueBytes, src ? "SrcK8S_Type" : "DstK8S_Type", ref result)
            && Text(k.OwnerType, FlowLimits.LabelValueBytes, src ? "SrcK8S_OwnerType" : "DstK8S_OwnerType", ref result)
            && Text(k.Zone, FlowLimits.LabelValueBytes, src ? "SrcK8S_Zone" : "DstK8S_Zone", ref result)
            && Text(k.SubnetLabel, FlowLimits.NameBytes, src ? "SrcSubnetLabel" : "DstSubnetLabel", ref result);
    }

    private static bool Range(int? value, int max, string field, ref FlowRejection result)
    {
        if (value is { } v && (v < 0 || v > max))
        {
            result = new(FlowRejectReason.ValueOutOfRange, field, v, max);
            return false;
        }

        return true;
    }

    private static bool Mac(ulong? value, string field, ref FlowRejection result)
    {
        if (value is > FlowLimits.MaxMac)
        {
            result = new(FlowRejectReason.ValueOutOfRange, field, value.Value, FlowLimits.MaxMac);
            return false;
        }

        return true;
    }

    private static bool Counter(long? value, string field, ref FlowRejection result)
    {
        if (value is < 0)
        {
            result = new(FlowRejectReason.CounterOutOfRange, field, value.Value, long.MaxValue);
            return false;
        }

        return true;
    }

    private static bool Sampled(long value, int factor, string field, ref FlowRejection result)
    {
        if (factor > 1 && value > long.MaxValue / factor)
        {
            result = new(FlowRejectReason.CounterOutOfRange, field, (Int128)value * factor, long.MaxValue);
            return false;
        }

        return true;
    }

    private static bool Text(string? value, int maxBytes, string field, ref FlowRejection result)
    {
        // A UTF-16 unit is at most 3 UTF-8 bytes: short strings need no count.
        if (value is null || value.Length <= maxBytes / 3)
        {
            return true;
        }

        var bytes = value.Length > maxBytes ? value.Length : Encoding.UTF8.GetByteCount(value);
        if (bytes > maxBytes)
        {
            // The exact length for the message (a UTF-8 count is cheap next to receiving the text).
            result = new(FlowRejectReason.TextTooLong, field, Encoding.UTF8.GetByteCount(value), maxBytes);
            return false;
        }

        return true;
    }
}
