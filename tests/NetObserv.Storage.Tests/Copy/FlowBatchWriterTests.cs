using System.Net;
using System.Net.NetworkInformation;
using NetObserv.Flows;
using NetObserv.Storage.Copy;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Copy;

public sealed class FlowBatchWriterTests(WrittenFlowsFixture fixture) : IClassFixture<WrittenFlowsFixture>
{
    private const int Sample = 1_000;

    [Fact]
    public async Task Write_100000Flows_EveryRowCommitted()
    {
        Assert.Equal(WrittenFlowsFixture.Count, fixture.RowsWritten);
        Assert.Equal(0, fixture.RowsRejected);
        Assert.InRange(fixture.BatchesWritten, 10, 100);
        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT count(*), count(DISTINCT hash_id) FROM flows");
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(WrittenFlowsFixture.Count, reader.GetInt64(0));
        Assert.Equal(WrittenFlowsFixture.Count, reader.GetInt64(1));
    }

    [Fact]
    public async Task Write_100000Flows_SampledRowsReadBackEqualFieldByField()
    {
        var random = new Random(7);
        var expected = new Dictionary<string, FlowRecord>(StringComparer.Ordinal);
        while (expected.Count < Sample)
        {
            var record = fixture.Records[random.Next(fixture.Records.Count)];
            expected[record.HashId!] = record;
        }

        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        await using var command = dataSource.CreateCommand("SELECT * FROM flows WHERE hash_id = ANY($1)");
        command.Parameters.Add(new NpgsqlParameter<string[]> { TypedValue = [.. expected.Keys] });
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var seen = 0;
        while (await reader.ReadAsync())
        {
            var hashId = reader.GetFieldValue<string>(reader.GetOrdinal("hash_id"));
            AssertRowEquals(expected[hashId], new Row(reader));
            seen++;
        }

        Assert.Equal(Sample, seen);
    }

    [Theory]
    [InlineData("flow_rollup_1m", 60_000)]
    [InlineData("flow_rollup_5m", 300_000)]
    [InlineData("flow_rollup_10m", 600_000)]
    [InlineData("flow_rollup_1h", 3_600_000)]
    public async Task Write_100000Flows_RollupSumsEqualSumsOfRecords(string table, long bucketMs)
    {
        var expected = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var r in fixture.Records)
        {
            var bucket = r.TimeFlowEndMs - (r.TimeFlowEndMs % bucketMs);
            var key = Key(r.Tenant, bucket, r.Src.Namespace, r.Src.OwnerType, r.Src.OwnerName, r.Dst.Namespace,
                r.Dst.OwnerType, r.Dst.OwnerName, r.FlowDirection, r.K8SFlowLayer, r.K8SClusterName);
            if (!expected.TryGetValue(key, out var sums))
            {
                expected[key] = sums = new long[5];
            }

            var factor = r.Sampling is > 1 ? r.Sampling.Value : 1;
            sums[0] += r.Bytes;
            sums[1] += r.Packets;
            sums[2] += r.Bytes * factor;
            sums[3] += r.Packets * factor;
            sums[4]++;
        }

        var actual = new Dictionary<string, long[]>(StringComparer.Ordinal);
        await using var dataSource = NpgsqlDataSource.Create(fixture.ConnectionString);
        // The table name comes from the test's own InlineData. A bucket and key may be in several rows (the
        // writer's per-batch deltas, before they are merged): their sums are the level's figures.
        await using var command = dataSource.CreateCommand(
            "SELECT tenant, bucket, src_k8s_namespace, src_k8s_owner_type, src_k8s_owner_name, dst_k8s_namespace, "
            + "dst_k8s_owner_type, dst_k8s_owner_name, flow_direction, k8s_flow_layer, k8s_cluster_name, "
            + "sum(bytes)::bigint, sum(packets)::bigint, sum(sampled_bytes)::bigint, sum(sampled_packets)::bigint, "
            + "sum(flows)::bigint FROM " + table + " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11");
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        while (await reader.ReadAsync())
        {
            var key = Key(reader.GetString(0),
                new DateTimeOffset(reader.GetFieldValue<DateTime>(1)).ToUnixTimeMilliseconds(),
                Text(reader, 2), Text(reader, 3), Text(reader, 4), Text(reader, 5), Text(reader, 6), Text(reader, 7),
                reader.IsDBNull(8) ? null : reader.GetInt32(8), Text(reader, 9), Text(reader, 10));
            actual.Add(key, [reader.GetInt64(11), reader.GetInt64(12), reader.GetInt64(13), reader.GetInt64(14),
                reader.GetInt64(15)]);
        }

        Assert.Equal(expected.Count, actual.Count);
        foreach (var (key, sums) in expected)
        {
            Assert.True(actual.TryGetValue(key, out var row), "missing rollup row " + key);
            Assert.Equal(sums, row);
        }

        // Sampling made a difference somewhere, so the corrected sums were really checked.
        Assert.Contains(expected.Values, s => s[2] != s[0]);
    }

    private static string? Text(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static string Key(string tenant, long bucket, params object?[] parts) =>
        tenant + "|" + bucket.ToString(System.Globalization.CultureInfo.InvariantCulture) + "|"
        + string.Join("|", parts.Select(p => p is null ? "<null>" : Convert.ToString(p, System.Globalization.CultureInfo.InvariantCulture)));

    private static void AssertRowEquals(FlowRecord e, Row a)
    {
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(e.TimeFlowEndMs).UtcDateTime, a.Get<DateTime>("time_end"));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(e.TimeFlowStartMs).UtcDateTime, a.Get<DateTime>("time_start"));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(e.TimeReceived).UtcDateTime, a.Get<DateTime>("time_received"));
        Assert.Equal(e.Tenant, a.Get<string>("tenant"));
        Assert.Equal(e.SrcAddr, a.Get<IPAddress>("src_addr"));
        Assert.Equal(e.DstAddr, a.Get<IPAddress>("dst_addr"));
        Assert.Equal(Mac(e.SrcMac), a.Get<PhysicalAddress>("src_mac"));
        Assert.Equal(Mac(e.DstMac), a.Get<PhysicalAddress>("dst_mac"));
        Assert.Equal(e.SrcPort, a.Int("src_port"));
        Assert.Equal(e.DstPort, a.Int("dst_port"));
        Assert.Equal(e.Proto, a.Int("proto"));
        Assert.Equal(e.Etype, a.Int("etype"));
        Assert.Equal(e.Flags, a.Int("flags"));
        Assert.Equal(e.Dscp, a.Int("dscp"));
        Assert.Equal(e.IcmpType, a.Int("icmp_type"));
        Assert.Equal(e.IcmpCode, a.Int("icmp_code"));
        Assert.Equal(e.Bytes, a.Get<long>("bytes"));
        Assert.Equal(e.Packets, a.Get<long>("packets"));
        Assert.Equal(e.Sampling, a.Int("sampling"));
        Assert.Equal(e.FlowDirection, a.Int("flow_direction"));
        Assert.Equal(e.Interfaces, a.Get<string[]>("interfaces"));
        Assert.Equal(e.IfDirections, a.Get<int[]>("if_directions"));
        Assert.Equal(e.Duplicate, a.IsNull("duplicate") ? null : a.Get<bool>("duplicate"));
        Assert.Equal(e.AgentIP, a.Get<IPAddress>("agent_ip"));
        Assert.Equal(e.DnsId, a.Int("dns_id"));
        Assert.Equal(e.DnsFlags, a.Int("dns_flags"));
        Assert.Equal(e.DnsLatencyMs, a.Long("dns_latency_ms"));
        Assert.Equal(e.DnsErrno, a.Int("dns_errno"));
        Assert.Equal(e.DnsName, a.Get<string>("dns_name"));
        Assert.Equal(e.TimeFlowRttNs, a.Long("rtt_ns"));
        Assert.Equal(e.PktDropBytes, a.Long("pkt_drop_bytes"));
        Assert.Equal(e.PktDropPackets, a.Long("pkt_drop_packets"));
        Assert.Equal(e.PktDropLatestState, a.Get<string>("pkt_drop_latest_state"));
        Assert.Equal(e.PktDropLatestDropCause, a.Get<string>("pkt_drop_latest_drop_cause"));
        AssertKubernetes(e.Src, a, "src");
        AssertKubernetes(e.Dst, a, "dst");
        Assert.Equal(e.K8SFlowLayer, a.Get<string>("k8s_flow_layer"));
        Assert.Equal(e.K8SClusterName, a.Get<string>("k8s_cluster_name"));
        Assert.Equal(e.RecordType, a.Get<string>("record_type"));
        Assert.Equal(e.HashId, a.Get<string>("hash_id"));
    }

    private static void AssertKubernetes(KubernetesMetadata e, Row a, string side)
    {
        Assert.Equal(e.Name, a.Get<string>(side + "_k8s_name"));
        Assert.Equal(e.Type, a.Get<string>(side + "_k8s_type"));
        Assert.Equal(e.Namespace, a.Get<string>(side + "_k8s_namespace"));
        Assert.Equal(e.OwnerName, a.Get<string>(side + "_k8s_owner_name"));
        Assert.Equal(e.OwnerType, a.Get<string>(side + "_k8s_owner_type"));
        Assert.Equal(e.HostIP, a.Get<IPAddress>(side + "_k8s_host_ip"));
        Assert.Equal(e.HostName, a.Get<string>(side + "_k8s_host_name"));
        Assert.Equal(e.Zone, a.Get<string>(side + "_k8s_zone"));
    }

    private static PhysicalAddress? Mac(ulong? mac) => mac is { } m ? MacAddressCache.ToPhysicalAddress(m) : null;

    /// <summary>Reads columns by name; NULL reads as null.</summary>
    private sealed class Row(NpgsqlDataReader reader)
    {
        public bool IsNull(string column) => reader.IsDBNull(reader.GetOrdinal(column));

        public T? Get<T>(string column) => IsNull(column) ? default : reader.GetFieldValue<T>(reader.GetOrdinal(column));

        public int? Int(string column) => IsNull(column) ? null : reader.GetInt32(reader.GetOrdinal(column));

        public long? Long(string column) => IsNull(column) ? null : reader.GetInt64(reader.GetOrdinal(column));
    }
}
