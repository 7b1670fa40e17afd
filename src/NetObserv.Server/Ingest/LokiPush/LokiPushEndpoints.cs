using System.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using NetObserv.Flows.LokiPush;
using NetObserv.Flows.Validation;

namespace NetObserv.Server.Ingest.LokiPush;

/// <summary><c>POST /loki/api/v1/push</c>: flowlogs-pipeline's Loki writer, JSON or protobuf+snappy.</summary>
internal static class LokiPushEndpoints
{
    /// <summary>The push route, as Loki serves it.</summary>
    public const string Route = "/loki/api/v1/push";

    /// <summary>
    /// Maps the push endpoint. Reads <see cref="LokiPushOptions"/> from the <c>LokiPush</c> section (every
    /// invalid setting is reported at once, at startup), checks records with the registered
    /// <see cref="FlowValidator"/> and hands them to the <see cref="FlowIngestService"/>.
    /// </summary>
    public static IEndpointRouteBuilder MapLokiPush(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var services = endpoints.ServiceProvider;
        var options = services.GetRequiredService<IConfiguration>().GetSection(LokiPushOptions.Section)
            .Get<LokiPushOptions>() ?? new LokiPushOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(LokiPushOptions.Section, typeof(LokiPushOptions), errors);
        }

        var handler = new LokiPushHandler(
            services.GetRequiredService<FlowIngestService>(),
            services.GetRequiredService<FlowValidator>(),
            options,
            new LokiPushMetrics(services.GetRequiredService<IMeterFactory>()),
            services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(LokiPushHandler).FullName!));
        endpoints.MapPost(Route, (RequestDelegate)handler.HandleAsync);
        return endpoints;
    }
}
