using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// The whole server on 127.0.0.1 with known flows and a small <c>Query:MaxLineFilterRows</c>, so metric
/// queries with line filters over a short range pass and over the whole data are refused.
/// </summary>
public sealed class LineFilterApiFixture : IAsyncLifetime
{
    /// <summary>The configured limit: above the flows of 10 minutes, below the 30 minutes of data.</summary>
    public const int MaxLineFilterRows = 500;

    private RunningServer? _server;

    internal List<QueryTestFlow> Flows { get; } = QueryTestFlows.Generate(800, seed: 21);

    internal RunningServer Server => _server!;

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Query:MaxLineFilterRows"] = MaxLineFilterRows.ToString(System.Globalization.CultureInfo.InvariantCulture),
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
