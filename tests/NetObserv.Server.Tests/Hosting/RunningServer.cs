using Microsoft.AspNetCore.Builder;
using NetObserv.Server.Commands;
using NetObserv.Server.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Hosting;

/// <summary>
/// The whole server, started in-process on 127.0.0.1 with free ports and a fresh database; stopped
/// and its database dropped on dispose. Extra settings are configuration keys (<c>Server:Role</c>).
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningServer(WebApplication app, string connectionString, int httpPort, int grpcPort, int ipfixPort,
        int netflowPort)
    {
        _app = app;
        ConnectionString = connectionString;
        HttpPort = httpPort;
        GrpcPort = grpcPort;
        IpfixPort = ipfixPort;
        NetflowPort = netflowPort;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = Timeouts.Default };
    }

    public string ConnectionString { get; }
    public int HttpPort { get; }
    public int GrpcPort { get; }
    public int IpfixPort { get; }
    public int NetflowPort { get; }
    public HttpClient Http { get; }

    /// <summary>This server's spill journal folder (removed on dispose).</summary>
    public string SpillDirectory { get; private init; } = "";
    public IServiceProvider Services => _app.Services;

    public static async Task<RunningServer> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var cs = await PostgresServer.CreateDatabaseAsync("srv").DefaultTimeout();
        var http = Loopback.FreeTcpPort();
        var grpc = Loopback.FreeTcpPort();
        var ipfix = Loopback.FreeUdpPort();
        var netflow = Loopback.FreeUdpPort();
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Storage:ConnectionString"] = cs,
            // Each server spills into its own folder, so nothing one test spills is replayed into another's database.
            ["Storage:SpillDirectory"] = Path.Combine(Path.GetTempPath(), "netobserv-test-spill-" + Guid.NewGuid().ToString("N")),
            ["Server:ListenAddress"] = "127.0.0.1",
            ["Server:HttpPort"] = http.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server:GrpcPort"] = grpc.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server:IpfixPort"] = ipfix.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Server:NetflowPort"] = netflow.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Enrichment:Kubernetes"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            values[key] = value;
        }

        var app = await NetObservHost.BuildAsync(new ParsedCommandLine("serve", values, []), null, CancellationToken.None)
            .DefaultTimeout();
        await app.StartAsync().DefaultTimeout();
        return new RunningServer(app, cs, http, grpc, ipfix, netflow) { SpillDirectory = values["Storage:SpillDirectory"]! };
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync().DefaultTimeout();
        await _app.DisposeAsync();
        await PostgresServer.DropDatabaseAsync(ConnectionString);
        if (Directory.Exists(SpillDirectory))
        {
            Directory.Delete(SpillDirectory, recursive: true);
        }
    }
}
