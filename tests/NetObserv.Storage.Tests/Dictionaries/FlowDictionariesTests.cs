using System.Net;
using NetObserv.Flows;
using NetObserv.Storage.Dictionaries;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Dictionaries;

public sealed class FlowDictionariesTests : IAsyncLifetime
{
    private readonly PostgresDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task ResolveAsync_RepeatedAndAlternatingKeys_EachRecordGetsTheIdsOfItsOwnKeys()
    {
        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            // Migrated: the dictionaries exist.
        }

        // Runs of equal keys and keys that alternate, on either side and in the context.
        var records = TestFlows.Generate(12, seed: 5);
        string[] names = ["a", "a", "b", "a", "b", "b", "b", "a", "a", "c", "a", "c"];
        string[] tenants = ["t1", "t1", "t1", "t2", "t2", "t1", "t2", "t2", "t2", "t1", "t1", "t2"];
        for (var i = 0; i < records.Count; i++)
        {
            records[i].Src = new KubernetesMetadata { Name = names[i], Namespace = "ns" };
            records[i].Dst = new KubernetesMetadata { Name = names[(i + 3) % names.Length], Namespace = "ns" };
            records[i].Tenant = tenants[i];
        }

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        var dictionaries = new FlowDictionaries();
        var ids = new RowIds();
        // Twice: first the keys are added, then all of them come from the cache.
        for (var pass = 0; pass < 2; pass++)
        {
            await dictionaries.ResolveAsync(connection, records, 0, records.Count, ids, CancellationToken.None)
                .DefaultTimeout();
            for (var i = 0; i < records.Count; i++)
            {
                var alone = new RowIds();
                await new FlowDictionaries().ResolveAsync(connection, records, i, 1, alone, CancellationToken.None)
                    .DefaultTimeout();
                Assert.Equal(alone.Src[0], ids.Src[i]);
                Assert.Equal(alone.Dst[0], ids.Dst[i]);
                Assert.Equal(alone.Context[0], ids.Context[i]);
            }
        }

        Assert.NotEqual(ids.Src[0], ids.Src[2]);
        Assert.NotEqual(ids.Context[0], ids.Context[3]);
    }

    [Theory]
    [InlineData(IdentityIds.DefaultSlots, false)]
    [InlineData(1, false)] // Every key in one slot: only the comparison of every field tells them apart.
    [InlineData(IdentityIds.DefaultSlots, true)] // Looked up first, as the ingest door does.
    [InlineData(1, true)]
    public async Task ResolveAsync_NeighboursDifferingInOneField_EqualKeysShareOneIdAndOthersDoNot(int identitySlots,
        bool look)
    {
        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            // Migrated: the dictionaries exist.
        }

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        var dictionaries = new FlowDictionaries(identitySlots: identitySlots);
        var ids = new RowIds();
        var random = new Random(17);
        IPAddress[] hosts = [IPAddress.Parse("10.1.0.1"), IPAddress.Parse("10.1.0.2")];
        // The same text as the pool's instance or as a new one: the reference check must miss on the
        // second and still give the id of the text. "zone\0" is stored cleaned.
        string? Text(params string?[] pool)
        {
            var text = pool[random.Next(pool.Length)];
            return text is not null && random.Next(2) == 0 ? new string(text) : text;
        }

        // Each record copies its neighbour's references and changes one field (or none): a slot holding
        // the neighbour's key must not answer for it.
        Action<KubernetesMetadata>[] endpointChanges =
        [
            m => m.Name = Text("api-1", "db-0", null),
            m => m.Namespace = Text("shop", "infra", null),
            m => m.Type = Text("Pod", "Service", null),
            m => m.OwnerName = Text("api", "db", null),
            m => m.OwnerType = Text("Deployment", "StatefulSet", null),
            m => m.HostIP = random.Next(3) switch { 0 => null, 1 => hosts[0], _ => hosts[1] },
            m => m.HostName = Text("node-a", "node-b", null),
            m => m.Zone = Text("zone\0a", "zone-b", null),
            m => m.SubnetLabel = Text("Pods", "Nodes", null),
            _ => { },
        ];
        Action<FlowRecord>[] contextChanges =
        [
            r => r.Tenant = Text("t1", "t2")!,
            r => r.FlowDirection = random.Next(3),
            r => r.Interfaces = random.Next(4) == 0 ? null : [Text("eth0", "eth1")!, Text("eth0", "eth1")!],
            r => r.IfDirections = random.Next(4) == 0 ? null : [random.Next(2), random.Next(2)],
            r => r.Duplicate = random.Next(3) switch { 0 => null, 1 => true, _ => false },
            r => r.AgentIP = IPAddress.Parse(random.Next(2) == 0 ? "10.0.0.1" : "10.0.0.2"),
            r => r.Etype = random.Next(2) == 0 ? 0x0800 : 0x86DD,
            r => r.Sampling = random.Next(3) == 0 ? null : random.Next(2),
            r => r.K8SFlowLayer = Text("app", "infra", null),
            r => r.K8SClusterName = Text("east", "west", null),
            r => r.RecordType = Text("flowLog", "newConnection", null),
            _ => { },
        ];

        var records = TestFlows.Generate(400, seed: 9);
        var endpointIds = new Dictionary<EndpointKey, int>();
        var contextIds = new Dictionary<ContextKey, int>();
        var looked = 0;
        for (var pass = 0; pass < 3; pass++)
        {
            for (var i = 1; i < records.Count; i++)
            {
                var (record, neighbour) = (records[i], records[i - 1]);
                record.Src = new KubernetesMetadata();
                record.Src.CopyFrom(neighbour.Dst);
                endpointChanges[random.Next(endpointChanges.Length)](record.Src);
                record.SrcMac = random.Next(8) == 0 ? (ulong)random.Next(2) : neighbour.DstMac;
                record.Dst = new KubernetesMetadata();
                record.Dst.CopyFrom(record.Src);
                endpointChanges[random.Next(endpointChanges.Length)](record.Dst);
                record.DstMac = random.Next(8) == 0 ? null : record.SrcMac;
                (record.Tenant, record.FlowDirection, record.Interfaces, record.IfDirections, record.Duplicate) =
                    (neighbour.Tenant, neighbour.FlowDirection, neighbour.Interfaces, neighbour.IfDirections?.ToArray(),
                        neighbour.Duplicate);
                (record.AgentIP, record.Etype, record.Sampling, record.K8SFlowLayer, record.K8SClusterName,
                    record.RecordType) = (neighbour.AgentIP, neighbour.Etype, neighbour.Sampling, neighbour.K8SFlowLayer,
                    neighbour.K8SClusterName, neighbour.RecordType);
                contextChanges[random.Next(contextChanges.Length)](record);
            }

            // Looked up, the pass's records are resolved again: now mostly from the ids they carry.
            for (var round = 0; round < (look ? 2 : 1); round++)
            {
                if (look)
                {
                    dictionaries.Look(records);
                    looked += records.Count(r => r.KeyIds != default);
                }

                // In uneven slices, so keys meet both in one batch and across batches.
                for (var start = 0; start < records.Count; start += 37)
                {
                    var count = Math.Min(37, records.Count - start);
                    await dictionaries.ResolveAsync(connection, records, start, count, ids, CancellationToken.None)
                        .DefaultTimeout();
                    for (var i = 0; i < count; i++)
                    {
                        var record = records[start + i];
                        Consistent(endpointIds, EndpointKey.Of(record.Src, record.SrcMac), ids.Src[i]);
                        Consistent(endpointIds, EndpointKey.Of(record.Dst, record.DstMac), ids.Dst[i]);
                        Consistent(contextIds, new ContextKey(record), ids.Context[i]);
                    }
                }
            }
        }

        Assert.True(endpointIds.Count > 50, $"{endpointIds.Count} endpoints");
        Assert.True(contextIds.Count > 50, $"{contextIds.Count} contexts");
        // Looked up: records whose keys the cache held carried their ids to the writer (neighbours that differ
        // in one field often share a slot, so fewer than all).
        Assert.True(!look || identitySlots == 1 || looked > 50, $"{looked} records looked up");
    }

    [Fact]
    public async Task Look_KeysResolvedBefore_RecordsCarryTheirIdsAndNewKeysNone()
    {
        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            // Migrated: the dictionaries exist.
        }

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        var records = TestFlows.Generate(200, seed: 4);
        var dictionaries = new FlowDictionaries();
        var ids = new RowIds();
        await dictionaries.ResolveAsync(connection, records, 0, 150, ids, CancellationToken.None).DefaultTimeout();
        var resolved = Enumerable.Range(0, 150).Select(i => (ids.Src[i], ids.Dst[i], ids.Context[i])).ToList();

        // Keys whose slot another key took since are not found: most are.
        dictionaries.Look(records);
        var carrying = 0;
        for (var i = 0; i < 150; i++)
        {
            if (records[i].KeyIds is { Generation: not 0 } carried)
            {
                Assert.Equal(resolved[i], (carried.Src, carried.Dst, carried.Context));
                carrying++;
            }
        }

        Assert.True(carrying > 120, $"{carrying} of 150 carry their ids");

        // The last 50 were never resolved: unless their three keys all came before, they carry nothing.
        foreach (var record in records.Skip(150).Where(r => r.KeyIds != default))
        {
            Assert.Contains((record.KeyIds.Src, record.KeyIds.Dst, record.KeyIds.Context), resolved);
        }

        // Resolved again from what they carry: the same ids.
        await dictionaries.ResolveAsync(connection, records, 0, 150, ids, CancellationToken.None).DefaultTimeout();
        Assert.Equal(resolved, Enumerable.Range(0, 150).Select(i => (ids.Src[i], ids.Dst[i], ids.Context[i])));
    }

    [Fact]
    public async Task Clear_ForgetsTheIdsFoundByReferenceAndThoseRecordsCarry()
    {
        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            // Migrated: the dictionaries exist.
        }

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        var records = TestFlows.Generate(3, seed: 2);
        var dictionaries = new FlowDictionaries();
        var ids = new RowIds();
        await dictionaries.ResolveAsync(connection, records, 0, records.Count, ids, CancellationToken.None)
            .DefaultTimeout();
        await dictionaries.ResolveAsync(connection, records, 0, records.Count, ids, CancellationToken.None)
            .DefaultTimeout();
        var before = (ids.Src[0], ids.Dst[0], ids.Context[0]);
        dictionaries.Look(records);
        Assert.Equal(new FlowKeyIds(before.Item1, before.Item2, before.Item3, records[0].KeyIds.Generation),
            records[0].KeyIds);

        // The rows are numbered again; the caches are told so.
        await using (var renumber = new NpgsqlCommand(
                         "UPDATE flow_endpoints SET id = id + 1000; UPDATE flow_contexts SET id = id + 1000", connection))
        {
            await renumber.ExecuteNonQueryAsync().DefaultTimeout();
        }

        dictionaries.Clear();
        await dictionaries.ResolveAsync(connection, records, 0, records.Count, ids, CancellationToken.None)
            .DefaultTimeout();
        Assert.Equal((before.Item1 + 1000, before.Item2 + 1000, before.Item3 + 1000),
            (ids.Src[0], ids.Dst[0], ids.Context[0]));
    }

    private static void Consistent<TKey>(Dictionary<TKey, int> seen, TKey key, int id)
        where TKey : notnull
    {
        if (seen.TryGetValue(key, out var known))
        {
            Assert.Equal(known, id);
        }
        else
        {
            Assert.DoesNotContain(id, seen.Values);
            seen[key] = id;
        }
    }
}
