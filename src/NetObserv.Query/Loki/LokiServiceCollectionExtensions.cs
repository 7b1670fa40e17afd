using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetObserv.Query.Planning;
using NetObserv.Storage;

namespace NetObserv.Query.Loki;

/// <summary>Loki-compatible query API registrations (LogQL parser, planner, cache) and endpoints.</summary>
public static class LokiServiceCollectionExtensions
{
    public static IServiceCollection AddLokiQuery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<QueryOptions>().BindConfiguration(QueryOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<QueryOptions>, QueryOptionsValidator>());
        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<QueryOptions>>();
            var database = sp.GetRequiredService<FlowDatabase>();
            // The managed server's only login is its superuser: its query sessions take the read-only role.
            var role = database.Managed is null ? null : QueryDataSource.ReaderRole;
            return new QueryEngine(QueryDataSource.Create(database.ConnectionString, options.Value, role), options);
        });
        services.TryAddSingleton<QueryResultCache>();
        services.TryAddSingleton<QueryConcurrency>();
        services.TryAddSingleton<QueryMetrics>();
        return services;
    }

    public static IEndpointRouteBuilder MapLokiApi(this IEndpointRouteBuilder endpoints) =>
        endpoints.MapLokiQueryEndpoints().MapLokiConfig();
}
