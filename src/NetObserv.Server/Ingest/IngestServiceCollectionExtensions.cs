namespace NetObserv.Server.Ingest;

/// <summary>gRPC ingest (pbflow.Collector/Send) and Kubernetes enrichment registrations.</summary>
internal static class IngestServiceCollectionExtensions
{
    public static IServiceCollection AddFlowIngest(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services;
    }

    public static IEndpointRouteBuilder MapFlowCollector(this IEndpointRouteBuilder endpoints) => endpoints;
}
