using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Google.Protobuf;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>
/// The backend on 127.0.0.1 with known flows of two tenants, and the published plugin process started
/// as Grafana starts it, its data source pointing at the backend's gRPC query API.
/// </summary>
public sealed class PluginFixture : IAsyncLifetime
{
    private RunningServer? _server;
    private PluginProcess? _plugin;

    internal List<QueryTestFlow> Flows { get; } =
        [.. QueryTestFlows.Generate(600, seed: 21), .. QueryTestFlows.Generate(80, seed: 22, tenant: "other")];

    internal RunningServer Server => _server!;

    internal PluginProcess Plugin => _plugin!;

    public Protocol.Data.DataClient Data => new(Plugin.Channel);

    public Protocol.Diagnostics.DiagnosticsClient Diagnostics => new(Plugin.Channel);

    public Resource.ResourceClient Resources => new(Plugin.Channel);

    public async Task InitializeAsync()
    {
        var build = PublishedPlugin.DirectoryAsync();
        _server = await RunningServer.StartAsync();
        await QueryTestFlows.InsertAsync(_server.ConnectionString, Flows).DefaultTimeout();
        await build.WaitAsync(TimeSpan.FromMinutes(10));
        _plugin = await PluginProcess.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_plugin is not null)
        {
            await _plugin.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    /// <summary>What Grafana sends with each call for a data source of this plugin at <paramref name="url"/>.</summary>
    public static PluginContext Context(string url, string jsonData = "{}") => new()
    {
        OrgId = 1,
        PluginId = PublishedPlugin.PluginId,
        PluginVersion = "1.0.0",
        User = new User { Login = "admin", Role = "Admin" },
        DataSourceInstanceSettings = new DataSourceInstanceSettings
        {
            Id = 1,
            Uid = "netobserv-flows",
            Name = "NetObserv flows",
            Url = url,
            JsonData = ByteString.CopyFromUtf8(jsonData),
        },
    };

    /// <summary>The data source pointing at this fixture's backend.</summary>
    public PluginContext Context(string jsonData = "{}") =>
        Context("http://127.0.0.1:" + Server.QueryGrpcPort.ToString(CultureInfo.InvariantCulture), jsonData);

    /// <summary>A data source URL where nothing listens.</summary>
    public static string ClosedUrl()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return "http://127.0.0.1:" + port.ToString(CultureInfo.InvariantCulture);
    }
}
