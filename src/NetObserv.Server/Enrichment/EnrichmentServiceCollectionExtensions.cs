using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Server.Enrichment;

/// <summary>Kubernetes enrichment registrations: the informer or the static inventory behind <see cref="IFlowEnricher"/>.</summary>
internal static class EnrichmentServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IFlowEnricher"/> (always: a <see cref="KubernetesEnricher"/> fed by the
    /// inventory file and/or the Kubernetes informer, or with an empty index when neither is configured),
    /// the inventory reloader when <c>Enrichment:InventoryFile</c> is set, and the informer when
    /// Kubernetes enrichment is on (<see cref="EnrichmentOptions.Kubernetes"/>).
    /// </summary>
    public static IServiceCollection AddFlowEnrichment(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var options = configuration.GetSection(EnrichmentOptions.Section).Get<EnrichmentOptions>() ?? new EnrichmentOptions();
        var kubernetes = options.IsKubernetesEnabled(Environment.GetEnvironmentVariable);
        var inventory = !string.IsNullOrEmpty(options.InventoryFile);

        services.AddOptions<EnrichmentOptions>().BindConfiguration(EnrichmentOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EnrichmentOptions>, EnrichmentOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new KubernetesEnricher(
            sp.GetRequiredService<IOptions<EnrichmentOptions>>().Value, resolvesAddresses: kubernetes || inventory));
        services.TryAddSingleton<IFlowEnricher>(sp => sp.GetRequiredService<KubernetesEnricher>());

        if (inventory)
        {
            services.AddHostedService(sp => new StaticInventoryReloader(
                sp.GetRequiredService<KubernetesEnricher>(),
                sp.GetRequiredService<IOptions<EnrichmentOptions>>().Value,
                sp.GetRequiredService<TimeProvider>(),
                sp.GetRequiredService<ILogger<StaticInventoryReloader>>()));
        }

        if (kubernetes)
        {
            services.AddHostedService(sp =>
            {
                var value = sp.GetRequiredService<IOptions<EnrichmentOptions>>().Value;
                return new KubernetesInformer(() => KubernetesInformer.CreateClient(value),
                    sp.GetRequiredService<KubernetesEnricher>(), value, sp.GetRequiredService<TimeProvider>(),
                    sp.GetRequiredService<ILogger<KubernetesInformer>>());
            });
        }

        return services;
    }
}
