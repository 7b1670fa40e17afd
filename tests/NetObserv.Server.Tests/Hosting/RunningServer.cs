using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Server.Commands;
using NetObserv.Server.Hosting;
using NetObserv.Server.Ingest;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Hosting;

/// <summary>
/// The whole server, started in-process on 127.0.0.1 with ports the server binds itself (port 0,
/// read back after start) and a fresh database; stopped and its database dropped on dispose. Extra settings are configuration keys (<c>Server:Role</c>).
/// </summary>
internal sealed class RunningServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RunningServer(WebApplication app, string connectionString, int httpPort, int grpcPort, int ipfixPort,
        int netflowPort, int queryGrpcPort)
    {
        QueryGrpcPort = queryGrpcPort;
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

    /// <summary>The gRPC query API port (0 with <c>Server:Role=ingest</c>).</summary>
    public int QueryGrpcPort { get; }
    public HttpClient Http { get; }

    /// <summary>This server's spill journal folder (removed on dispose).</summary>
    public string SpillDirectory { get; private init; } = "";
    public IServiceProvider Services => _app.Services;

    public static async Task<RunningServer> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var cs = await PostgresServer.CreateDatabaseAsync("srv").DefaultTimeout();
        var own = Path.Combine(Path.GetTempPath(), "netobserv-test-spill-" + Guid.NewGuid().ToString("N"));
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Storage:ConnectionString"] = cs,
            // Native partitions: the test server preloads TimescaleDB when it is installed, and auto would choose it.
            ["Storage:TimescaleDb"] = "off",
            // Each server spills into its own folder, so nothing one test spills is replayed into another's database.
            ["Storage:SpillDirectory"] = own,
            ["Storage:JournalDirectory"] = Path.Combine(own, "journal"),
            ["Server:ListenAddress"] = "127.0.0.1",
            // Every listener binds a free port chosen by the system; the ports are read back after start.
            ["Server:HttpPort"] = "-1",
            ["Server:GrpcPort"] = "-1",
            ["Server:QueryGrpcPort"] = "-1",
            ["Server:IpfixPort"] = "-1",
            ["Server:NetflowPort"] = "-1",
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
        var endpoints = app.Services.GetRequiredService<ListenerEndpoints>();
        var udp = app.Services.GetService<IpfixCollectorService>();
        return new RunningServer(app, cs, endpoints.Http?.Port ?? 0, endpoints.Grpc?.Port ?? 0,
            udp?.EndPointOf(IpfixCollectorService.IpfixProtocol)?.Port ?? 0,
            udp?.EndPointOf(IpfixCollectorService.NetflowProtocol)?.Port ?? 0, endpoints.QueryGrpc?.Port ?? 0)
        {
            SpillDirectory = values["Storage:SpillDirectory"]!,
        };
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
