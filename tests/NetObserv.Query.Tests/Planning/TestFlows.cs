using System.Net;
using NetObserv.Flows;
using NetObserv.Testing;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Query.Tests.Planning;

/// <summary>
/// Known flows for query tests: generated from a seed, inserted into <c>flows</c> with parameterised
/// INSERTs, rollups filled from them; expected values are computed here from the same records.
/// </summary>
internal static class TestFlows
{
    public static readonly string[] Namespaces = ["ns-a", "ns-b", "ns-c", "ns.d"];
    public static readonly string[] Owners = ["web", "db"];

    /// <summary>Start of the data: three whole hours before now, so ranges end in the past and hours align.</summary>
    public static DateTime Origin { get; } = new DateTime(DateTime.UtcNow.Ticks / TimeSpan.TicksPerHour * TimeSpan.TicksPerHour,
        DateTimeKind.Utc).AddHours(-3);

    public static long OriginMs => (Origin.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    /// <summary>Flows over 30 minutes from <see cref="Origin"/>, never on a whole second.</summary>
    public static List<FlowRecord> Generate(int count, int seed, string tenant = FlowRecord.DefaultTenant)
    {
        var random = new Random(seed);
        var records = new List<FlowRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var end = OriginMs + (random.Next(0, 30 * 60) * 1000L) + random.Next(1, 1000);
            var srcNs = random.Next(10) == 0 ? null : Namespaces[random.Next(Namespaces.Length)];
            var dstNs = Namespaces[random.Next(Namespaces.Length)];
            var srcOwner = srcNs is null ? null : Owners[random.Next(Owners.Length)];
            var dstOwner = Owners[random.Next(Owners.Length)];
            records.Add(new FlowRecord
            {
                TimeFlowEndMs = end,
                TimeFlowStartMs = end - 500,
                TimeReceived = end / 1000,
                Tenant = tenant,
                SrcAddr = IPAddress.Parse("10.0.0." + random.Next(1, 250)),
                DstAddr = IPAddress.Parse("10.1.0." + random.Next(1, 250)),
                SrcPort = random.Next(1024, 65535),
                DstPort = random.Next(2) == 0 ? 443 : 5432,
                Proto = 6,
                Bytes = random.Next(100, 10_000),
                Packets = random.Next(1, 50),
                Sampling = i % 3 == 0 ? 50 : null,
                FlowDirection = random.Next(2),
                K8SFlowLayer = "app",
                RecordType = "flowLog",
                Src = new KubernetesMetadata
                {
                    Namespace = srcNs,
                    OwnerName = srcOwner,
                    OwnerType = srcOwner is null ? null : "Deployment",
                    Name = srcOwner is null ? null : srcOwner + "-" + random.Next(3),
                    Type = srcOwner is null ? null : "Pod",
                },
                Dst = new KubernetesMetadata
                {
                    Namespace = dstNs,
                    OwnerName = dstOwner,
                    OwnerType = "Deployment",
                    Name = dstOwner + "-" + random.Next(3),
                    Type = "Pod",
                },
            });
        }

        return records;
    }

    public static async Task InsertAsync(string connectionString, IReadOnlyList<FlowRecord> records)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var day = Origin.Date;
        // Native mode: the day's partition (the backend's writer creates them; this inserts straight into flows).
        // A TimescaleDB hypertable makes its chunks itself.
        if (!PostgresTestMode.IsTimescaleDb)
        {
            await using var partition = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS flows_qtest_{day:yyyyMMdd} PARTITION OF flow_rows FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')",
            connection);
            try
            {
                await partition.ExecuteNonQueryAsync();
            }
            catch (PostgresException)
            {
                // A partition for the day already exists.
            }
        }

        await using var batch = new NpgsqlBatch(connection);
        foreach (var r in records)
        {
            var command = new NpgsqlBatchCommand(
                """
                INSERT INTO flows (time_end, time_start, time_received, tenant, src_addr, dst_addr, src_port, dst_port,
                    proto, bytes, packets, flow_direction, k8s_flow_layer, record_type,
                    src_k8s_namespace, src_k8s_owner_name, src_k8s_owner_type, src_k8s_name, src_k8s_type,
                    dst_k8s_namespace, dst_k8s_owner_name, dst_k8s_owner_type, dst_k8s_name, dst_k8s_type, sampling,
                    agent_ip, dns_latency_ms, rtt_ns, pkt_drop_packets)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22,
                    $23, $24, $25, $26, $27, $28, $29)
                """);
            Add(command, DateTime.UnixEpoch.AddMilliseconds(r.TimeFlowEndMs), NpgsqlDbType.TimestampTz);
            Add(command, DateTime.UnixEpoch.AddMilliseconds(r.TimeFlowStartMs), NpgsqlDbType.TimestampTz);
            Add(command, DateTime.UnixEpoch.AddSeconds(r.TimeReceived), NpgsqlDbType.TimestampTz);
            Add(command, r.Tenant, NpgsqlDbType.Text);
            Add(command, r.SrcAddr, NpgsqlDbType.Inet);
            Add(command, r.DstAddr, NpgsqlDbType.Inet);
            Add(command, r.SrcPort, NpgsqlDbType.Integer);
            Add(command, r.DstPort, NpgsqlDbType.Integer);
            Add(command, r.Proto, NpgsqlDbType.Integer);
            Add(command, r.Bytes, NpgsqlDbType.Bigint);
            Add(command, r.Packets, NpgsqlDbType.Bigint);
            Add(command, r.FlowDirection, NpgsqlDbType.Integer);
            Add(command, r.K8SFlowLayer, NpgsqlDbType.Text);
            Add(command, r.RecordType, NpgsqlDbType.Text);
            foreach (var m in new[] { r.Src, r.Dst })
            {
                Add(command, m.Namespace, NpgsqlDbType.Text);
                Add(command, m.OwnerName, NpgsqlDbType.Text);
                Add(command, m.OwnerType, NpgsqlDbType.Text);
                Add(command, m.Name, NpgsqlDbType.Text);
                Add(command, m.Type, NpgsqlDbType.Text);
            }

            Add(command, r.Sampling, NpgsqlDbType.Integer);
            Add(command, r.AgentIP, NpgsqlDbType.Inet);
            Add(command, r.DnsLatencyMs, NpgsqlDbType.Bigint);
            Add(command, r.TimeFlowRttNs, NpgsqlDbType.Bigint);
            Add(command, r.PktDropPackets, NpgsqlDbType.Bigint);
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync();
    }

    private static void Add(NpgsqlBatchCommand command, object? value, NpgsqlDbType type) =>
        command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value, NpgsqlDbType = type });

    /// <summary>
    /// Loki's evaluation done by hand: at each step t = start + k*step, over flows with time_end in
    /// (t - range, t], per key, the aggregate of <paramref name="value"/> (divided by the range in
    /// seconds when <paramref name="perSecond"/>). Keys with no flow in a window have no value there.
    /// </summary>
    public static Dictionary<string, double?[]> Expected(IEnumerable<FlowRecord> records, long startMs, long stepMs,
        int count, long rangeMs, Func<FlowRecord, string> key, Func<FlowRecord, double> value, bool perSecond,
        string tenant = FlowRecord.DefaultTenant)
    {
        var result = new Dictionary<string, double?[]>(StringComparer.Ordinal);
        foreach (var r in records.Where(r => r.Tenant == tenant))
        {
            for (var k = 0; k < count; k++)
            {
                var t = startMs + (k * stepMs);
                if (r.TimeFlowEndMs > t - rangeMs && r.TimeFlowEndMs <= t)
                {
                    var name = key(r);
                    if (!result.TryGetValue(name, out var values))
                    {
                        result[name] = values = new double?[count];
                    }

                    values[k] = (values[k] ?? 0) + (value(r) / (perSecond ? rangeMs / 1000.0 : 1));
                }
            }
        }

        return result;
    }
}
