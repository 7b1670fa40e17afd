using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using NetObserv.Query.Grpc;
using NetObserv.Query.Loki;
using NetObserv.Server.Commands;
using NetObserv.Server.Demo;
using NetObserv.Server.Enrichment;
using NetObserv.Server.Ingest;
using NetObserv.Server.Metrics;
using NetObserv.Storage;

namespace NetObserv.Server.Hosting;

/// <summary>
/// Builds the server: opens the database (the managed local PostgreSQL when none is configured),
/// then registers each project's services and endpoints. Reads like the architecture.
/// </summary>
internal static class NetObservHost
{
    public static async Task<WebApplication> BuildAsync(ParsedCommandLine commandLine,
        Action<WebApplicationBuilder>? configure, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ContentRootPath = AppContext.BaseDirectory,
        });
        NetObservConfiguration.Apply(builder.Configuration, commandLine);
        configure?.Invoke(builder);
        builder.AddNetObservDemo(); // --demo: synthetic cluster, its inventory and traffic

        var serverOptions = builder.Configuration.GetSection(ServerOptions.Section).Get<ServerOptions>()
            ?? new ServerOptions();
        var storageOptions = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()
            ?? new StorageOptions();

        using (var startupLogging = LoggerFactory.Create(b => b.AddConfiguration(builder.Configuration.GetSection("Logging"))
            .AddSimpleConsole(o => o.SingleLine = true)))
        {
            var database = await FlowDatabase.OpenAsync(storageOptions, startupLogging, cancellationToken)
                .ConfigureAwait(false);
            builder.Services.AddSingleton(_ => database);
        }

        builder.Services.AddNetObservMetrics();
        builder.Services.AddFlowStorage(builder.Configuration);   // writer, rollups, partitions
        builder.Services.AddFlowEnrichment(builder.Configuration); // Kubernetes informer or inventory
        builder.Services.AddFlowIngest(builder.Configuration);    // gRPC collector
        builder.Services.AddIpfixCollector(builder.Configuration); // IPFIX / NetFlow v9 over UDP
        builder.Services.AddLokiQuery(builder.Configuration);     // LogQL parser, planner, cache
        builder.Services.AddQueryGrpc();                          // the same engine over gRPC
        ConfigureEndpoints(builder, serverOptions);

        var app = builder.Build();

        // Listen to meters from the start, not from the first scrape.
        app.Services.GetRequiredService<PrometheusExporter>();
        app.MapFlowCollector();        // pbflow.Collector/Send
        app.MapLokiApi();              // /loki/api/v1/* queries
        app.UseQueryGrpcPortOnly(serverOptions); // the gRPC query API answers on its own port
        app.MapQueryGrpc();            // netobserv.query.v1.QueryService, grpc.health.v1
        app.MapLokiPush();             // /loki/api/v1/push
        app.MapOperationalEndpoints(); // /ready, /healthz, /metrics
        return app;
    }

    private static void ConfigureEndpoints(WebApplicationBuilder builder, ServerOptions options)
    {
        var endpoints = new ListenerEndpoints();
        builder.Services.AddSingleton(endpoints);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            Listen(kestrel, options.ListenAddress, options.HttpPort, HttpProtocols.Http1AndHttp2, endpoints.SetHttp);
            if (options.Role != "ingest")
            {
                Listen(kestrel, options.ListenAddress, options.QueryGrpcPort, HttpProtocols.Http2, endpoints.SetQueryGrpc);
            }

            if (options.Role != "query")
            {
                var ingest = builder.Configuration.GetSection(IngestOptions.Section).Get<IngestOptions>() ?? new IngestOptions();
                Listen(kestrel, options.ListenAddress, options.GrpcPort, HttpProtocols.Http2, listen =>
                {
                    endpoints.SetGrpc(listen);
                    IngestServiceCollectionExtensions.ConfigureGrpcListener(listen, ingest);
                });
            }
        });
    }

    /// <summary>
    /// Answers 404 to calls of the query service that did not arrive on <see cref="ServerOptions.QueryGrpcPort"/>,
    /// so the API is exposed exactly where it is configured (a free port is only known once bound).
    /// </summary>
    private static void UseQueryGrpcPortOnly(this WebApplication app, ServerOptions options)
    {
        var endpoints = app.Services.GetRequiredService<ListenerEndpoints>();
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(QueryGrpcServiceCollectionExtensions.ServicePath.TrimEnd('/'),
                StringComparison.Ordinal) && (options.Role == "ingest" || context.Connection.LocalPort != endpoints.QueryGrpc?.Port))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
    }

    internal static void Listen(KestrelServerOptions kestrel, string address, int port, HttpProtocols protocols,
        Action<ListenOptions>? configure = null)
    {
        port = ListenerEndpoints.Bindable(port);
        void Configure(ListenOptions o)
        {
            o.Protocols = protocols;
            configure?.Invoke(o);
        }

        if (address is "*" or "" or "any")
        {
            kestrel.ListenAnyIP(port, Configure);
        }
        else if (address is "localhost" && port != 0)
        {
            kestrel.ListenLocalhost(port, Configure);
        }
        else
        {
            // Kestrel binds a free port only on an explicit address: localhost then means 127.0.0.1.
            kestrel.Listen(address is "localhost" ? IPAddress.Loopback : IPAddress.Parse(address), port, Configure);
        }
    }
}
