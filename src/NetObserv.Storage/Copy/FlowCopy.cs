using System.Net;
using NetObserv.Flows;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Copy;

/// <summary>
/// Writes flow records into <c>flows</c> with one binary COPY. Every value goes through the generic
/// <see cref="NpgsqlBinaryImporter.Write{T}(T, NpgsqlDbType)"/> (no boxing); absent fields are NULL.
/// Times are clamped to the representable range and text is cleaned of what PostgreSQL cannot store.
/// </summary>
internal static class FlowCopy
{
    /// <summary>The COPY statement; the column names are the schema's contract.</summary>
    public const string Sql = """
        COPY flows (time_end, time_start, time_received, tenant, src_addr, dst_addr, src_mac, dst_mac,
            src_port, dst_port, proto, etype, flags, dscp, icmp_type, icmp_code, bytes, packets, sampling,
            flow_direction, interfaces, if_directions, duplicate, agent_ip, dns_id, dns_flags, dns_latency_ms,
            dns_errno, dns_name, rtt_ns, pkt_drop_bytes, pkt_drop_packets, pkt_drop_latest_state,
            pkt_drop_latest_drop_cause,
            src_k8s_name, src_k8s_type, src_k8s_namespace, src_k8s_owner_name, src_k8s_owner_type,
            src_k8s_host_ip, src_k8s_host_name, src_k8s_zone,
            dst_k8s_name, dst_k8s_type, dst_k8s_namespace, dst_k8s_owner_name, dst_k8s_owner_type,
            dst_k8s_host_ip, dst_k8s_host_name, dst_k8s_zone,
            k8s_flow_layer, k8s_cluster_name, record_type, hash_id)
        FROM STDIN (FORMAT BINARY)
        """;

    /// <summary>
    /// Copies <paramref name="count"/> records starting at <paramref name="start"/> and returns the row
    /// count the server reports.
    /// </summary>
    public static async Task<ulong> WriteAsync(NpgsqlConnection connection, List<FlowRecord> records, int start,
        int count, MacAddressCache macs, CancellationToken cancellationToken)
    {
        var importer = await connection.BeginBinaryImportAsync(Sql, cancellationToken).ConfigureAwait(false);
        await using (importer.ConfigureAwait(false))
        {
            // Rows are written synchronously: values go to the connection's buffer and only a full
            // buffer touches the socket. Per-value awaits cost more than the rare blocking flush.
            for (var i = start; i < start + count; i++)
            {
                WriteRow(importer, records[i], macs);
            }

            return await importer.CompleteAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static void WriteRow(NpgsqlBinaryImporter w, FlowRecord r, MacAddressCache macs)
    {
        w.StartRow();
        w.Write(FlowTime.ToUtc(r.TimeFlowEndMs), NpgsqlDbType.TimestampTz);
        w.Write(FlowTime.ToUtc(r.TimeFlowStartMs), NpgsqlDbType.TimestampTz);
        w.Write(FlowTime.SecondsToUtc(r.TimeReceived), NpgsqlDbType.TimestampTz);
        w.Write(FlowText.Clean(r.Tenant) ?? FlowRecord.DefaultTenant, NpgsqlDbType.Text);
        Inet(w, r.SrcAddr);
        Inet(w, r.DstAddr);
        Mac(w, r.SrcMac, macs);
        Mac(w, r.DstMac, macs);
        Int(w, r.SrcPort);
        Int(w, r.DstPort);
        Int(w, r.Proto);
        Int(w, r.Etype);
        Int(w, r.Flags);
        Int(w, r.Dscp);
        Int(w, r.IcmpType);
        Int(w, r.IcmpCode);
        w.Write(r.Bytes, NpgsqlDbType.Bigint);
        w.Write(r.Packets, NpgsqlDbType.Bigint);
        Int(w, r.Sampling);
        Int(w, r.FlowDirection);
        if (FlowText.Clean(r.Interfaces) is { } interfaces)
        {
            w.Write(interfaces, NpgsqlDbType.Array | NpgsqlDbType.Text);
        }
        else
        {
            w.WriteNull();
        }

        if (r.IfDirections is { } directions)
        {
            w.Write(directions, NpgsqlDbType.Array | NpgsqlDbType.Integer);
        }
        else
        {
            w.WriteNull();
        }

        if (r.Duplicate is { } duplicate)
        {
            w.Write(duplicate, NpgsqlDbType.Boolean);
        }
        else
        {
            w.WriteNull();
        }

        Inet(w, r.AgentIP);
        Int(w, r.DnsId);
        Int(w, r.DnsFlags);
        Long(w, r.DnsLatencyMs);
        Int(w, r.DnsErrno);
        Text(w, r.DnsName);
        Long(w, r.TimeFlowRttNs);
        Long(w, r.PktDropBytes);
        Long(w, r.PktDropPackets);
        Text(w, r.PktDropLatestState);
        Text(w, r.PktDropLatestDropCause);
        Kubernetes(w, r.Src);
        Kubernetes(w, r.Dst);
        Text(w, r.K8SFlowLayer);
        Text(w, r.K8SClusterName);
        Text(w, r.RecordType);
        Text(w, r.HashId);
    }

    private static void Kubernetes(NpgsqlBinaryImporter w, KubernetesMetadata k)
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

    private static void Text(NpgsqlBinaryImporter w, string? value)
    {
        if (FlowText.Clean(value) is { } text)
        {
            w.Write(text, NpgsqlDbType.Text);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Int(NpgsqlBinaryImporter w, int? value)
    {
        if (value is { } v)
        {
            w.Write(v, NpgsqlDbType.Integer);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Long(NpgsqlBinaryImporter w, long? value)
    {
        if (value is { } v)
        {
            w.Write(v, NpgsqlDbType.Bigint);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Inet(NpgsqlBinaryImporter w, IPAddress? value)
    {
        if (value is not null)
        {
            w.Write(value, NpgsqlDbType.Inet);
        }
        else
        {
            w.WriteNull();
        }
    }

    private static void Mac(NpgsqlBinaryImporter w, ulong? value, MacAddressCache macs)
    {
        if (value is { } v)
        {
            w.Write(macs.Get(v), NpgsqlDbType.MacAddr);
        }
        else
        {
            w.WriteNull();
        }
    }
}
