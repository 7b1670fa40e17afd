using NetObserv.Server.Metrics;
using NetObserv.Storage;

namespace NetObserv.Server.Hosting;

/// <summary>
/// <c>/</c> (where the APIs are), <c>/healthz</c> (liveness: the process is up, whatever the database does), <c>/ready</c> (started and the
/// database answers; 503 with the reason otherwise), <c>/metrics</c>.
/// </summary>
internal static class OperationalEndpoints
{
    public static IEndpointRouteBuilder MapOperationalEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapApiIndex();
        endpoints.MapGet("/healthz", () => Results.Text("ok\n"));
        endpoints.MapGet("/ready", ReadyAsync);
        endpoints.MapGet("/metrics", (PrometheusExporter exporter) =>
            Results.Text(exporter.Render(), "text/plain; version=0.0.4; charset=utf-8"));
        return endpoints;
    }

    /// <summary>
    /// 200 once started while the database answers; 503 with the reason, as plain text or as JSON when the
    /// caller accepts <c>application/json</c>, while starting or while the database cannot be reached.
    /// </summary>
    private static async Task<IResult> ReadyAsync(HttpContext context, DatabaseProbe probe, IHostApplicationLifetime lifetime,
        IServiceProvider services)
    {
        var reason = !lifetime.ApplicationStarted.IsCancellationRequested ? "starting"
            : await probe.UnreachableReasonAsync(context.RequestAborted).ConfigureAwait(false) is { } unreachable
                ? "database unreachable: " + unreachable
                : null;
        var warning = NetObservHost.IsOpenBeyondLoopback(services)
            ? "listening beyond loopback without authentication (see docs/security.md)"
            : null;
        var status = reason is null ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        if (context.Request.Headers.Accept.Any(a => a?.Contains("application/json", StringComparison.OrdinalIgnoreCase) == true))
        {
            return Results.Json(new ReadyAnswer(reason is null ? "ready" : "not ready", reason, warning), statusCode: status);
        }

        var text = (reason ?? "ready") + "\n" + (warning is null ? "" : "warning: " + warning + "\n");
        return Results.Text(text, statusCode: status);
    }

    /// <summary>The JSON answer of <c>/ready</c>.</summary>
    internal sealed record ReadyAnswer(string Status, string? Reason, string? Warning);
}
