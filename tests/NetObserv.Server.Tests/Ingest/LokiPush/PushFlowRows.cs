using System.Net;
using System.Net.NetworkInformation;
using NetObserv.Flows;
using Npgsql;

namespace NetObserv.Server.Tests.Ingest.LokiPush;

/// <summary>Reads rows of the <c>flows</c> table back into flow records, column by column.</summary>
internal static class PushFlowRows
{
    public static async Task<long> CountAsync(string connectionString, string tenant)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT count(*) FROM flows WHERE tenant = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenant });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static async Task<List<FlowRecord>> ReadAsync(string connectionString, string tenant)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var command = dataSource.CreateCommand("SELECT * FROM flows WHERE tenant = $1");
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = tenant });
        await using var reader = await command.ExecuteReaderAsync();
        var records = new List<FlowRecord>();
        while (await reader.ReadAsync())
        {
            records.Add(new FlowRecord
            {
                TimeFlowEndMs = Milliseconds(Get<DateTime>(reader, "time_end")),
                TimeFlowStartMs = Milliseconds(Get<DateTime>(reader, "time_start")),
                TimeReceived = Milliseconds(Get<DateTime>(reader, "time_received")) / 1000,
                Tenant = Get<string>(reader, "tenant") ?? "",
                SrcAddr = Get<IPAddress>(reader, "src_addr"),
                DstAddr = Get<IPAddress>(reader, "dst_addr"),
                SrcMac = Mac(Get<PhysicalAddress>(reader, "src_mac")),
                DstMac = Mac(Get<PhysicalAddress>(reader, "dst_mac")),
                SrcPort = Get<int?>(reader, "src_port"),
                DstPort = Get<int?>(reader, "dst_port"),
                Proto = Get<int?>(reader, "proto"),
                Etype = Get<int?>(reader, "etype"),
                Flags = Get<int?>(reader, "flags"),
                Dscp = Get<int?>(reader, "dscp"),
                IcmpType = Get<int?>(reader, "icmp_type"),
                IcmpCode = Get<int?>(reader, "icmp_code"),
                Bytes = Get<long>(reader, "bytes"),
                Packets = Get<long>(reader, "packets"),
                Sampling = Get<int?>(reader, "sampling"),
                FlowDirection = Get<int?>(reader, "flow_direction"),
                Interfaces = Get<string[]>(reader, "interfaces"),
                IfDirections = Get<int[]>(reader, "if_directions"),
                Duplicate = Get<bool?>(reader, "duplicate"),
                AgentIP = Get<IPAddress>(reader, "agent_ip"),
                DnsId = Get<int?>(reader, "dns_id"),
                DnsFlags = Get<int?>(reader, "dns_flags"),
                DnsLatencyMs = Get<long?>(reader, "dns_latency_ms"),
                DnsErrno = Get<int?>(reader, "dns_errno"),
                DnsName = Get<string>(reader, "dns_name"),
                TimeFlowRttNs = Get<long?>(reader, "rtt_ns"),
                PktDropBytes = Get<long?>(reader, "pkt_drop_bytes"),
                PktDropPackets = Get<long?>(reader, "pkt_drop_packets"),
                PktDropLatestState = Get<string>(reader, "pkt_drop_latest_state"),
                PktDropLatestDropCause = Get<string>(reader, "pkt_drop_latest_drop_cause"),
                Src = Kubernetes(reader, "src"),
                Dst = Kubernetes(reader, "dst"),
                K8SFlowLayer = Get<string>(reader, "k8s_flow_layer"),
                K8SClusterName = Get<string>(reader, "k8s_cluster_name"),
                RecordType = Get<string>(reader, "record_type"),
                HashId = Get<string>(reader, "hash_id"),
                ExtraFields = Get<string>(reader, "extra_fields"),
            });
        }

        return records;
    }

    private static KubernetesMetadata Kubernetes(NpgsqlDataReader reader, string side) => new()
    {
        Name = Get<string>(reader, side + "_k8s_name"),
        Type = Get<string>(reader, side + "_k8s_type"),
        Namespace = Get<string>(reader, side + "_k8s_namespace"),
        OwnerName = Get<string>(reader, side + "_k8s_owner_name"),
        OwnerType = Get<string>(reader, side + "_k8s_owner_type"),
        HostIP = Get<IPAddress>(reader, side + "_k8s_host_ip"),
        HostName = Get<string>(reader, side + "_k8s_host_name"),
        Zone = Get<string>(reader, side + "_k8s_zone"),
        SubnetLabel = Get<string>(reader, side + "_subnet_label"),
    };

    private static T? Get<T>(NpgsqlDataReader reader, string column)
    {
        var ordinal = reader.GetOrdinal(column);
        return reader.IsDBNull(ordinal) ? default : reader.GetFieldValue<T>(ordinal);
    }

    private static long Milliseconds(DateTime time) => (time.ToUniversalTime() - DateTime.UnixEpoch).Ticks / 10_000;

    private static ulong? Mac(PhysicalAddress? address)
    {
        if (address is null)
        {
            return null;
        }

        ulong value = 0;
        foreach (var b in address.GetAddressBytes())
        {
            value = (value << 8) | b;
        }

        return value;
    }
}
