using System.Globalization;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// The whole server on 127.0.0.1 with known flows and a small <c>Query:MaxResponseBytes</c>, so answers of
/// a few hundred kilobytes are refused and small ones pass.
/// </summary>
public sealed class QueryLimitsFixture : IAsyncLifetime
{
    /// <summary>The configured cap: above a one-series answer, below a 1 s step over the 30 minutes of data.</summary>
    public const int MaxResponseBytes = 60_000;

    private RunningServer? _server;

    internal List<QueryTestFlow> Flows { get; } = QueryTestFlows.Generate(800, seed: 31);

    internal RunningServer Server => _server!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Query:MaxResponseBytes"] = MaxResponseBytes.ToString(CultureInfo.InvariantCulture),
        });
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
