using System.Net;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using NetObserv.GrafanaPlugin.Backend;
using NetObserv.GrafanaPlugin.Data;
using NetObserv.GrafanaPlugin.Diagnostics;
using NetObserv.GrafanaPlugin.Resources;

namespace NetObserv.GrafanaPlugin.Hosting;

/// <summary>
/// The plugin process as go-plugin (Grafana's plugin host) expects it: started with
/// <c>grafana_plugin_type=datasource</c> and <c>PLUGIN_PROTOCOL_VERSIONS</c> offering 2, it serves gRPC
/// (h2c) on a free 127.0.0.1 port and then prints <c>1|2|tcp|127.0.0.1:&lt;port&gt;|grpc</c> as the first and
/// only line on stdout; logs go to stderr as hclog JSON. It runs until Grafana asks it to stop
/// (<c>plugin.GRPCController/Shutdown</c>) or kills it.
/// </summary>
internal static class PluginHost
{
    public const string MagicCookieKey = "grafana_plugin_type";
    public const string MagicCookieValue = "datasource";
    public const string ProtocolVersionsVariable = "PLUGIN_PROTOCOL_VERSIONS";

    /// <summary>go-plugin's core protocol version, the first field of the handshake line.</summary>
    public const int CoreProtocolVersion = 1;

    /// <summary>Grafana's plugin protocol version (pluginv2).</summary>
    public const int ProtocolVersion = 2;

    /// <summary>The name go-plugin's health check asks for.</summary>
    public const string HealthService = "plugin";

    /// <summary>Environment variable setting the least level logged (trace, debug, info, warn, error). Defaults to info.</summary>
    public const string LogLevelVariable = "NETOBSERV_PLUGIN_LOG_LEVEL";

    public static async Task<int> RunAsync(string[] args)
    {
        using var logs = new HclogLoggerProvider(Console.Error, MinimumLevel(Environment.GetEnvironmentVariable(LogLevelVariable)));
        var logger = logs.CreateLogger("netobserv-flows-datasource");
        if (Refusal() is { } reason)
        {
            PluginLog.NotStartedByGrafana(logger, reason);
            return 1;
        }

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(MinimumLevel(Environment.GetEnvironmentVariable(LogLevelVariable)));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = 16 * 1024 * 1024;
            grpc.EnableDetailedErrors = false;
        });
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<BackendClients>();
        builder.Services.AddSingleton<PluginMetrics>();
        var health = new HealthServiceImpl();
        health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
        health.SetStatus(HealthService, HealthCheckResponse.Types.ServingStatus.Serving);
        builder.Services.AddSingleton(health);

        await using var app = builder.Build();
        app.MapGrpcService<DataService>();            // pluginv2.Data/QueryData
        app.MapGrpcService<DiagnosticsService>();     // pluginv2.Diagnostics/CheckHealth, CollectMetrics
        app.MapGrpcService<ResourceService>();        // pluginv2.Resource/CallResource
        app.MapGrpcService<HealthServiceImpl>();      // grpc.health.v1.Health ("plugin")
        app.MapGrpcService<ControllerService>();      // plugin.GRPCController/Shutdown
        await app.StartAsync().ConfigureAwait(false);

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var endpoint = "127.0.0.1:" + new Uri(address).Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await Console.Out.WriteAsync(Handshake(endpoint)).ConfigureAwait(false);
        await Console.Out.FlushAsync().ConfigureAwait(false);
        PluginLog.Started(logger, endpoint);

        await app.WaitForShutdownAsync().ConfigureAwait(false);
        return 0;
    }

    /// <summary><c>CORE-PROTOCOL-VERSION|APP-PROTOCOL-VERSION|NETWORK-TYPE|NETWORK-ADDR|PROTOCOL</c> and a newline.</summary>
    public static string Handshake(string endpoint) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{CoreProtocolVersion}|{ProtocolVersion}|tcp|{endpoint}|grpc\n");

    /// <summary>Why this process was not started by Grafana's plugin host, or null when it was.</summary>
    private static string? Refusal()
    {
        if (Environment.GetEnvironmentVariable(MagicCookieKey) != MagicCookieValue)
        {
            return $"{MagicCookieKey} is not \"{MagicCookieValue}\"";
        }

        var versions = Environment.GetEnvironmentVariable(ProtocolVersionsVariable);
        if (!string.IsNullOrEmpty(versions)
            && !versions.Split(',', StringSplitOptions.TrimEntries).Contains(ProtocolVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)))
        {
            return $"{ProtocolVersionsVariable} ({versions}) does not offer protocol version {ProtocolVersion}";
        }

        return null;
    }

    private static LogLevel MinimumLevel(string? text) => text?.Trim().ToUpperInvariant() switch
    {
        "TRACE" => LogLevel.Trace,
        "DEBUG" => LogLevel.Debug,
        "WARN" or "WARNING" => LogLevel.Warning,
        "ERROR" => LogLevel.Error,
        _ => LogLevel.Information,
    };
}
