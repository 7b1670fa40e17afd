using Microsoft.AspNetCore.Routing;

namespace NetObserv.Query.Loki;

/// <summary><c>POST /loki/api/v1/push</c>: flowlogs-pipeline's Loki writer, JSON or protobuf+snappy.</summary>
public static class LokiPushEndpoints
{
    public static IEndpointRouteBuilder MapLokiPush(this IEndpointRouteBuilder endpoints) => endpoints;
}
