using NetObserv.Flows.Enrichment;

namespace NetObserv.Server.Enrichment;

/// <summary>Kubernetes enrichment registrations: the informer or the static inventory behind <see cref="IFlowEnricher"/>.</summary>
internal static class EnrichmentServiceCollectionExtensions
{
    public static IServiceCollection AddFlowEnrichment(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services;
    }
}
