using NetObserv.Testing;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Server.Tests.Loki;

/// <summary>A flow as these tests insert it (the fields the queries look at).</summary>
internal sealed record QueryTestFlow(long EndMs, string Tenant, string? SrcNamespace, string? SrcOwner, string DstNamespace,
    string DstOwner, long Bytes, int Direction, int DstPort);

/// <summary>Known flows over 30 minutes starting three whole hours ago, inserted with parameterised INSERTs.</summary>
internal static class QueryTestFlows
{
    public static readonly string[] Namespaces = ["ns-a", "ns-b", "ns-c", "ns.d"];

    public static long OriginMs { get; } =
        ((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 3_600_000) - 3) * 3_600_000;

    /// <summary>The dashboards' rule for a flow two nodes saw (<c>FlowDirection!="1" or DstK8S_OwnerName=""</c>): keep it once.</summary>
    public static bool Kept(QueryTestFlow f) => f.Direction != 1 || f.DstOwner.Length == 0;

    /// <summary>
    /// What volumetry of bytes by source namespace answers at <paramref name="timeMs"/>: bytes per second of the
    /// default tenant's kept flows from <paramref name="srcNamespace"/> ending in (t - step, t] (sampling 1).
    /// </summary>
    public static double SourceBytesRate(IEnumerable<QueryTestFlow> flows, string srcNamespace, long timeMs, long stepMs) =>
        flows.Where(f => f.Tenant == "default" && f.SrcNamespace == srcNamespace && Kept(f)
            && f.EndMs > timeMs - stepMs && f.EndMs <= timeMs).Sum(f => f.Bytes) / (stepMs / 1000.0);

    public static List<QueryTestFlow> Generate(int count, int seed, string tenant = "default")
    {
        var random = new Random(seed);
        var flows = new List<QueryTestFlow>(count);
        for (var i = 0; i < count; i++)
        {
            var src = random.Next(10) == 0 ? null : Namespaces[random.Next(Namespaces.Length)];
            flows.Add(new QueryTestFlow(OriginMs + (random.Next(0, 1800) * 1000L) + random.Next(1, 1000), tenant, src,
                src is null ? null : (random.Next(2) == 0 ? "web" : "db"), Namespaces[random.Next(Namespaces.Length)],
                random.Next(2) == 0 ? "web" : "db", random.Next(100, 10_000), random.Next(2),
                random.Next(2) == 0 ? 443 : 5432));
        }

        return flows;
    }

    public static async Task InsertAsync(string connectionString, IReadOnlyList<QueryTestFlow> flows)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var day = DateTime.UnixEpoch.AddMilliseconds(OriginMs).Date;
        await using (var partition = new NpgsqlCommand(
            $"CREATE TABLE IF NOT EXISTS flows_qtest_{day:yyyyMMdd} PARTITION OF flow_rows FOR VALUES FROM ('{day:yyyy-MM-dd}') TO ('{day.AddDays(1):yyyy-MM-dd}')",
            connection))
        {
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
        foreach (var f in flows)
        {
            var command = new NpgsqlBatchCommand(
                """
                INSERT INTO flows (time_end, time_start, time_received, tenant, src_k8s_namespace, src_k8s_owner_name,
                    dst_k8s_namespace, dst_k8s_owner_name, bytes, packets, flow_direction, dst_port, proto,
                    k8s_flow_layer, record_type)
                VALUES ($1, $1, $1, $2, $3, $4, $5, $6, $7, 1, $8, $9, 6, 'app', 'flowLog')
                """);
            command.Parameters.Add(new NpgsqlParameter { Value = DateTime.UnixEpoch.AddMilliseconds(f.EndMs), NpgsqlDbType = NpgsqlDbType.TimestampTz });
            command.Parameters.Add(new NpgsqlParameter { Value = f.Tenant, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)f.SrcNamespace ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = (object?)f.SrcOwner ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = f.DstNamespace, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = f.DstOwner, NpgsqlDbType = NpgsqlDbType.Text });
            command.Parameters.Add(new NpgsqlParameter { Value = f.Bytes, NpgsqlDbType = NpgsqlDbType.Bigint });
            command.Parameters.Add(new NpgsqlParameter { Value = f.Direction, NpgsqlDbType = NpgsqlDbType.Integer });
            command.Parameters.Add(new NpgsqlParameter { Value = f.DstPort, NpgsqlDbType = NpgsqlDbType.Integer });
            batch.BatchCommands.Add(command);
        }

        await batch.ExecuteNonQueryAsync();

        await PostgresRollups.RebuildAsync(connectionString);
    }
}
