namespace NetObserv.Server.Hosting;

/// <summary>
/// <c>GET /</c>: a small JSON map of what this server answers (the Loki API paths, the gRPC services and their
/// ports, the operational endpoints), so a first visit in a browser or with curl says where to go instead of 404.
/// </summary>
internal static class ApiIndexEndpoint
{
    private const string Loki = "/loki/api/v1";

    public static IEndpointRouteBuilder MapApiIndex(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", (ServerOptions options, ListenerEndpoints listeners) => Results.Json(Index(options, listeners)));
        return endpoints;
    }

    internal static ApiIndex Index(ServerOptions options, ListenerEndpoints listeners)
    {
        var loki = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.Queries)
        {
            loki["query_range"] = Loki + "/query_range";
            loki["query"] = Loki + "/query";
            loki["labels"] = Loki + "/labels";
            loki["label_values"] = Loki + "/label/{name}/values";
            loki["series"] = Loki + "/series";
            loki["index_stats"] = Loki + "/index/stats";
            loki["buildinfo"] = Loki + "/status/buildinfo";
            loki["config"] = "/config";
        }

        if (options.Ingests)
        {
            loki["push"] = Loki + "/push";
        }

        var grpc = new List<GrpcListener>();
        if (options.Ingests && listeners.Grpc is { } ingest)
        {
            grpc.Add(new GrpcListener(ingest.Port, "h2c unless Ingest:TlsCertificatePath is set",
                ["pbflow.Collector/Send", "grpc.health.v1.Health"]));
        }

        if (options.Queries && listeners.QueryGrpc is { } query)
        {
            grpc.Add(new GrpcListener(query.Port, "h2c", ["netobserv.query.v1.QueryService", "grpc.health.v1.Health"]));
        }

        return new ApiIndex(
            "netobserv-backend",
            options.Role.ToString().ToLowerInvariant(),
            loki,
            grpc,
            Metrics: "/metrics",
            Ready: "/ready",
            Healthz: "/healthz",
            Docs: "Grafana: add a data source of type Loki with this server's URL. Settings and APIs: README.md and docs/ "
                + "in the repository; netobserv-backend help lists the flags.");
    }

    /// <summary>The answer of <c>GET /</c>.</summary>
    internal sealed record ApiIndex(string Name, string Role, IReadOnlyDictionary<string, string> Loki,
        IReadOnlyList<GrpcListener> Grpc, string Metrics, string Ready, string Healthz, string Docs);

    /// <summary>One gRPC port and the services it serves.</summary>
    internal sealed record GrpcListener(int Port, string Transport, IReadOnlyList<string> Services);
}
