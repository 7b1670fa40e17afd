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
}
