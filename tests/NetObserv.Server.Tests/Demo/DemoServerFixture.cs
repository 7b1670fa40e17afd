using Microsoft.Extensions.DependencyInjection;
using NetObserv.Server.Demo;
using NetObserv.Server.Tests.Hosting;

namespace NetObserv.Server.Tests.Demo;

/// <summary>
/// The whole server with the demo on (two hours of backfill, a modest live rate), started once for a
/// test class; ready when the demo's first data can be queried.
/// </summary>
public sealed class DemoServerFixture : IAsyncLifetime
{
    private RunningServer? _server;

    internal RunningServer Server => _server ?? throw new InvalidOperationException("not started");

    /// <summary>Data folder of the run (the demo writes its inventory there).</summary>
    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "netobserv-demo-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        _server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Demo:Enabled"] = "true",
            ["Demo:Backfill"] = "2h",
            ["Demo:BackfillRecordBudget"] = "20000",
            ["Demo:PeakFlowsPerSecond"] = "50",
            ["Storage:DataDirectory"] = DataDirectory,
        });
        var demo = _server.Services.GetRequiredService<DemoService>();
        demo.Output = TextWriter.Null;
        await demo.Ready.WaitAsync(TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
