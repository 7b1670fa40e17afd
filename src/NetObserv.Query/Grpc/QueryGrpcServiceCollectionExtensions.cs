using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Grpc;

/// <summary>The gRPC query API (<c>netobserv.query.v1.QueryService</c>) and gRPC health; needs <c>AddLokiQuery</c>.</summary>
public static class QueryGrpcServiceCollectionExtensions
{
    /// <summary>The path prefix of the query service's methods.</summary>
    public const string ServicePath = "/netobserv.query.v1.QueryService/";

    public static IServiceCollection AddQueryGrpc(this IServiceCollection services)
    {
        services.AddGrpc();
        // Health answers from the checks run at the call, not from a publisher's cache that starts Unknown.
        services.AddGrpcHealthChecks().Services.Configure<global::Grpc.AspNetCore.HealthChecks.GrpcHealthChecksOptions>(
            o => o.UseHealthChecksCache = false);
        services.AddHealthChecks().AddCheck<QueryDatabaseHealthCheck>("query-database");
        services.TryAddSingleton<QueryGrpcService>();
        services.AddOptions<global::Grpc.AspNetCore.Server.GrpcServiceOptions<QueryGrpcService>>()
            .Configure<IOptions<QueryOptions>>((grpc, query) =>
            {
                // Requests are small; answers are bounded by Query:MaxResponseBytes.
                grpc.MaxReceiveMessageSize = 1024 * 1024;
                grpc.MaxSendMessageSize = (int)Math.Min(query.Value.MaxResponseBytes + (1024 * 1024), int.MaxValue);
                grpc.EnableDetailedErrors = false;
            });
        return services;
    }

    /// <summary>
    /// Maps the query service. <c>grpc.health.v1.Health</c> is mapped once by the host, for every gRPC port.
    /// </summary>
    public static IEndpointRouteBuilder MapQueryGrpc(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<QueryGrpcService>();
        return endpoints;
    }
}
