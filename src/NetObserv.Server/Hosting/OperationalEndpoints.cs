using NetObserv.Server.Metrics;
using NetObserv.Storage;

namespace NetObserv.Server.Hosting;

/// <summary><c>/healthz</c> (the process is up), <c>/ready</c> (database migrated, listeners bound), <c>/metrics</c>.</summary>
internal static class OperationalEndpoints
{
    public static IEndpointRouteBuilder MapOperationalEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz", () => Results.Text("ok\n"));
        endpoints.MapGet("/ready", (FlowDatabase database, IHostApplicationLifetime lifetime, IServiceProvider services) =>
            lifetime.ApplicationStarted.IsCancellationRequested && database is not null
                ? Results.Text(NetObservHost.IsOpenBeyondLoopback(services)
                    ? "ready\nwarning: listening beyond loopback without authentication (see docs/security.md)\n"
                    : "ready\n")
                : Results.Text("starting\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        endpoints.MapGet("/metrics", (PrometheusExporter exporter) =>
            Results.Text(exporter.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        return endpoints;
    }
}
