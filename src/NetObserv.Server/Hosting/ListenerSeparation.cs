namespace NetObserv.Server.Hosting;

/// <summary>
/// Keeps each listener to its own services: the gRPC ingest port answers only <c>pbflow.Collector</c> and gRPC
/// health, and <c>pbflow.Collector</c> is answered only there. Anything else is 404 (Kestrel maps every
/// endpoint on every listener otherwise).
/// </summary>
internal static class ListenerSeparation
{
    public const string CollectorPrefix = "/pbflow.Collector/";
    public const string HealthPrefix = "/grpc.health.v1.Health/";

    public static IApplicationBuilder UseListenerSeparation(this IApplicationBuilder app)
    {
        var endpoints = app.ApplicationServices.GetRequiredService<ListenerEndpoints>();
        return app.Use(async (context, next) =>
        {
            var path = context.Request.Path.Value ?? "";
            var collector = path.StartsWith(CollectorPrefix, StringComparison.Ordinal);
            var onGrpcPort = endpoints.Grpc is { } grpc && context.Connection.LocalPort == grpc.Port;
            var allowed = onGrpcPort
                ? collector || path.StartsWith(HealthPrefix, StringComparison.Ordinal)
                : !collector;
            if (!allowed)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context).ConfigureAwait(false);
        });
    }
}
