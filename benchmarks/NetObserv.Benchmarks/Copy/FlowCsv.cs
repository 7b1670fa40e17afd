using System.Globalization;
using System.Net;
using NetObserv.Flows;
using NetObserv.Storage.Copy;

namespace NetObserv.Benchmarks.Copy;

/// <summary>Writes flow records as PostgreSQL CSV in the column order of <see cref="FlowCopy.Sql"/> (unquoted empty = NULL).</summary>
internal static class FlowCsv
{
    public static void Write(string path, List<FlowRecord> records)
    {
        using var writer = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 20);
        foreach (var r in records)
        {
            Time(writer, r.TimeFlowEndMs);
            Time(writer, r.TimeFlowStartMs);
            Time(writer, r.TimeReceived * 1000);
            Text(writer, r.Tenant);
            Inet(writer, r.SrcAddr);
            Inet(writer, r.DstAddr);
            Mac(writer, r.SrcMac);
            Mac(writer, r.DstMac);
            Num(writer, r.SrcPort);
            Num(writer, r.DstPort);
            Num(writer, r.Proto);
            Num(writer, r.Etype);
            Num(writer, r.Flags);
            Num(writer, r.Dscp);
            Num(writer, r.IcmpType);
            Num(writer, r.IcmpCode);
            Num(writer, r.Bytes);
            Num(writer, r.Packets);
            Num(writer, r.Sampling);
            Num(writer, r.FlowDirection);
            Field(writer, r.Interfaces is null ? null : "\"{" + string.Join(',', r.Interfaces) + "}\"");
            Field(writer, r.IfDirections is null ? null : "\"{" + string.Join(',', r.IfDirections) + "}\"");
            Field(writer, r.Duplicate is null ? null : r.Duplicate.Value ? "t" : "f");
            Inet(writer, r.AgentIP);
            Num(writer, r.DnsId);
            Num(writer, r.DnsFlags);
            Num(writer, r.DnsLatencyMs);
            Num(writer, r.DnsErrno);
            Text(writer, r.DnsName);
            Num(writer, r.TimeFlowRttNs);
            Num(writer, r.PktDropBytes);
            Num(writer, r.PktDropPackets);
            Text(writer, r.PktDropLatestState);
            Text(writer, r.PktDropLatestDropCause);
            Kubernetes(writer, r.Src);
            Kubernetes(writer, r.Dst);
            Text(writer, r.K8SFlowLayer);
            Text(writer, r.K8SClusterName);
            Text(writer, r.RecordType);
            Text(writer, r.HashId, last: true);
            writer.Write('\n');
        }
    }

    private static void Kubernetes(StreamWriter w, KubernetesMetadata k)
    {
        Text(w, k.Name);
        Text(w, k.Type);
        Text(w, k.Namespace);
        Text(w, k.OwnerName);
        Text(w, k.OwnerType);
        Inet(w, k.HostIP);
        Text(w, k.HostName);
        Text(w, k.Zone);
    }

    private static void Field(StreamWriter w, string? value, bool last = false)
    {
        if (value is not null)
        {
            w.Write(value);
        }

        if (!last)
        {
            w.Write(',');
        }
    }

    private static void Text(StreamWriter w, string? value, bool last = false) =>
        Field(w, value is null ? null : "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"", last);

    private static void Time(StreamWriter w, long ms) =>
        Field(w, DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-dd HH:mm:ss.fff+00", CultureInfo.InvariantCulture));

    private static void Inet(StreamWriter w, IPAddress? address) => Field(w, address?.ToString());

    private static void Mac(StreamWriter w, ulong? mac) =>
        Field(w, mac is null ? null : MacAddressCache.ToPhysicalAddress(mac.Value).ToString());

    private static void Num(StreamWriter w, long? value) =>
        Field(w, value?.ToString(CultureInfo.InvariantCulture));
}
