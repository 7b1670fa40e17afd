using NetObserv.Flows;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Rollups;

/// <summary>
/// The writer caches each rollup key id by the endpoint and context ids of the flows it was built for, and
/// later batches sum by that id without building the key again. A wrong entry would add a flow to another
/// key's row: these flows go both ways between two workloads, each with two pods (different endpoint ids,
/// one rollup key), in two directions and two tenants, over many small batches.
/// </summary>
public sealed class RollupKeyIdsTests : IAsyncLifetime
{
    private readonly PostgresDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task Write_ManyBatchesOfReverseFlowsAndSharedOwners_EveryRollupKeyHasTheSumsOfItsFlows()
    {
        KubernetesMetadata[] pods =
        [
            new() { Name = "api-1", Namespace = "front", OwnerName = "api", OwnerType = "Deployment", Type = "Pod" },
            new() { Name = "api-2", Namespace = "front", OwnerName = "api", OwnerType = "Deployment", Type = "Pod" },
            new() { Name = "db-0", Namespace = "back", OwnerName = "db", OwnerType = "StatefulSet", Type = "Pod" },
            new() { Name = "db-1", Namespace = "back", OwnerName = "db", OwnerType = "StatefulSet", Type = "Pod" },
        ];
        var random = new Random(3);
        var agent = System.Net.IPAddress.Parse("192.0.2.1");
        var records = TestFlows.Generate(600, seed: 13, spanMinutes: 3);
        foreach (var record in records)
        {
            var forward = random.Next(2) == 0;
            var front = pods[random.Next(2)];
            var back = pods[2 + random.Next(2)];
            (record.Src, record.Dst) = forward ? (front, back) : (back, front);
            record.FlowDirection = random.Next(2);
            record.Tenant = random.Next(2) == 0 ? "blue" : "green";
            record.K8SFlowLayer = "app";
            record.K8SClusterName = "c1";
            // Everything else that tells endpoints or contexts apart is the same for every flow.
            (record.SrcMac, record.DstMac) = (null, null);
            (record.Interfaces, record.IfDirections, record.Duplicate) = (["eth0"], [0], false);
            (record.AgentIP, record.Etype, record.Sampling, record.RecordType) = (agent, 0x0800, 1, "flowLog");
        }

        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString, batchSize: 20,
            flushInterval: TimeSpan.FromMilliseconds(50), channelCapacity: records.Count))
        {
            for (var i = 0; i < records.Count; i += 20)
            {
                host.Accept(records.GetRange(i, 20));
            }

            await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
            await Timeouts.WaitUntilAsync(() => Task.FromResult(host.Writer.RowsWritten >= records.Count),
                TimeSpan.FromSeconds(180), "every row written");
            await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
            Assert.Equal(0, host.Writer.RowsRejected);
            Assert.True(host.Writer.BatchesWritten >= 20, $"{host.Writer.BatchesWritten} batches");
        }

        await using var dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
        await using (var ids = dataSource.CreateCommand(
            "SELECT count(DISTINCT src_endpoint), count(DISTINCT context) FROM flow_rows"))
        await using (var idsReader = await ids.ExecuteReaderAsync().DefaultTimeout())
        {
            // So later batches meet the same (source, destination, context) ids again.
            Assert.True(await idsReader.ReadAsync());
            Assert.Equal(4, idsReader.GetInt64(0));
            Assert.Equal(4, idsReader.GetInt64(1));
        }

        var expected = new Dictionary<string, (long Bytes, long Flows)>(StringComparer.Ordinal);
        foreach (var r in records)
        {
            var key = Key(r.Tenant, r.TimeFlowEndMs - (r.TimeFlowEndMs % 60_000), r.Src.Namespace!,
                r.Src.OwnerName!, r.Dst.Namespace!, r.Dst.OwnerName!, r.FlowDirection!.Value);
            expected[key] = expected.TryGetValue(key, out var sums) ? (sums.Bytes + r.Bytes, sums.Flows + 1) : (r.Bytes, 1);
        }

        var actual = new Dictionary<string, (long Bytes, long Flows)>(StringComparer.Ordinal);
        await using var command = dataSource.CreateCommand(
            "SELECT tenant, bucket, src_k8s_namespace, src_k8s_owner_name, dst_k8s_namespace, dst_k8s_owner_name, "
            + "flow_direction, sum(bytes)::bigint, sum(flows)::bigint FROM flow_rollup_1m GROUP BY 1, 2, 3, 4, 5, 6, 7");
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        while (await reader.ReadAsync())
        {
            actual.Add(Key(reader.GetString(0), new DateTimeOffset(reader.GetFieldValue<DateTime>(1)).ToUnixTimeMilliseconds(),
                reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt32(6)),
                (reader.GetInt64(7), reader.GetInt64(8)));
        }

        // 2 tenants x 2 directions x 2 ways, over 3 or 4 minutes.
        Assert.InRange(expected.Count, 24, 32);
        Assert.Equal(expected.OrderBy(e => e.Key, StringComparer.Ordinal), actual.OrderBy(e => e.Key, StringComparer.Ordinal));
    }

    private static string Key(string tenant, long bucketMs, string srcNamespace, string srcOwner, string dstNamespace,
        string dstOwner, int direction) =>
        string.Join('|', tenant, bucketMs, srcNamespace, srcOwner, dstNamespace, dstOwner, direction);
}
