using Google.Protobuf;
using Grpc.Core;
using NetObserv.GrafanaPlugin.Backend;
using NetObserv.GrafanaPlugin.Data;
using NetObserv.GrafanaPlugin.Hosting;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Query.Grpc.V1;

namespace NetObserv.GrafanaPlugin.Diagnostics;

/// <summary>
/// <c>pluginv2.Diagnostics</c>: <c>CheckHealth</c> asks the backend at the data source's URL for its
/// version (OK with it, or ERROR with the reason within <see cref="HealthDeadline"/>); <c>CollectMetrics</c>
/// returns the plugin's own counters.
/// </summary>
internal sealed class DiagnosticsService : Protocol.Diagnostics.DiagnosticsBase
{
    public static readonly TimeSpan HealthDeadline = TimeSpan.FromSeconds(5);

    private readonly BackendClients _clients;
    private readonly PluginMetrics _metrics;
    private readonly ILogger _logger;

    public DiagnosticsService(BackendClients clients, PluginMetrics metrics, ILoggerFactory loggerFactory)
    {
        _clients = clients;
        _metrics = metrics;
        _logger = loggerFactory.CreateLogger("netobserv-flows-datasource.health");
    }

    public override async Task<CheckHealthResponse> CheckHealth(CheckHealthRequest request, ServerCallContext context)
    {
        _metrics.HealthCheck();
        var url = request.PluginContext?.DataSourceInstanceSettings?.Url ?? "";
        try
        {
            var settings = DataSourceSettings.From(request.PluginContext);
            var info = await _clients.Query(settings)
                .BuildInfoAsync(new BuildInfoRequest(), settings.Headers(), DateTime.UtcNow.Add(HealthDeadline), context.CancellationToken)
                .ResponseAsync.ConfigureAwait(false);
            return new CheckHealthResponse
            {
                Status = CheckHealthResponse.Types.HealthStatus.Ok,
                Message = $"NetObserv backend {info.Version} answers at {settings.Url.GetLeftPart(UriPartial.Authority)}",
            };
        }
        catch (Exception ex) when (ex is PluginQueryException or RpcException)
        {
            var reason = ex is RpcException rpc
                ? $"{DataService.Downstream(rpc).Message} ({rpc.StatusCode})"
                : ex.Message;
            PluginLog.HealthCheckFailed(_logger, url, reason);
            return new CheckHealthResponse
            {
                Status = CheckHealthResponse.Types.HealthStatus.Error,
                Message = $"NetObserv backend at \"{url}\": {reason}",
            };
        }
    }

    public override Task<CollectMetricsResponse> CollectMetrics(CollectMetricsRequest request, ServerCallContext context) =>
        Task.FromResult(new CollectMetricsResponse
        {
            Metrics = new CollectMetricsResponse.Types.Payload { Prometheus = ByteString.CopyFromUtf8(_metrics.Render()) },
        });
}
