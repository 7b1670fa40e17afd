using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>The whole server on 127.0.0.1, started with <c>settings</c>, with <see cref="Flows"/> in its database.</summary>
public abstract class QueryServerFixture : IAsyncLifetime
{
    private readonly IReadOnlyDictionary<string, string?>? _settings;
    private RunningServer? _server;

    private protected QueryServerFixture(List<QueryTestFlow> flows, IReadOnlyDictionary<string, string?>? settings = null)
    {
        Flows = flows;
        _settings = settings;
    }

    internal List<QueryTestFlow> Flows { get; }

    internal RunningServer Server => _server!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(_settings);
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
