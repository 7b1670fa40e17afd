using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Query.Planning;
using NetObserv.Storage;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.Planning;

/// <summary>A database migrated in the suite's storage mode (<see cref="PostgresTestMode"/>) holding <see cref="Records"/> (two tenants) and the rollups built from them.</summary>
public class QueryDataFixture : IAsyncLifetime
{
    private readonly PostgresDatabase _database = new();
    private FlowDatabase? _flowDatabase;

    public QueryDataFixture()
        : this([.. TestFlows.Generate(1_500, seed: 7), .. TestFlows.Generate(200, seed: 8, tenant: "other")])
    {
    }

    private protected QueryDataFixture(List<FlowRecord> records)
    {
        Records = records;
    }

    internal List<FlowRecord> Records { get; }

    internal FlowDatabase Database => _flowDatabase!;

    internal QueryEngine Engine(QueryOptions? options = null) =>
        new(Database.DataSource, Options.Create(options ?? new QueryOptions()));

    public async Task InitializeAsync()
    {
        await _database.InitializeAsync().DefaultTimeout();
        _flowDatabase = await FlowDatabase.OpenAsync(new StorageOptions
        {
            ConnectionString = _database.ConnectionString,
            TimescaleDb = PostgresTestMode.Setting
        }, null, CancellationToken.None).DefaultTimeout();
        await TestFlows.InsertAsync(_database.ConnectionString, Records).DefaultTimeout();
        await PostgresRollups.RebuildAsync(_database.ConnectionString).DefaultTimeout();
    }

    public async Task DisposeAsync()
    {
        if (_flowDatabase is not null)
        {
            await _flowDatabase.DisposeAsync();
        }

        await _database.DisposeAsync();
    }
}
