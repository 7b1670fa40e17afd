namespace NetObserv.Server.Metrics;

internal static class MetricsServiceCollectionExtensions
{
    public static IServiceCollection AddNetObservMetrics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.AddSingleton<PrometheusExporter>();
        return services;
    }
}
