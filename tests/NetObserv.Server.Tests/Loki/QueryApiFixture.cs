using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>The whole server on 127.0.0.1 with known flows of two tenants in its database.</summary>
public sealed class QueryApiFixture : IAsyncLifetime
{
    private RunningServer? _server;

    internal List<QueryTestFlow> Flows { get; } =
        [.. QueryTestFlows.Generate(800, seed: 11), .. QueryTestFlows.Generate(100, seed: 12, tenant: "other")];

    internal RunningServer Server => _server!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync();
        await QueryTestFlows.InsertAsync(_server.ConnectionString, Flows).DefaultTimeout();
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
