using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Options;
using NetObserv.Flows.LokiPush;
using NetObserv.Query.Grpc;
using NetObserv.Query.Loki;
using NetObserv.Server.Auth;
using NetObserv.Server.Commands;
using NetObserv.Server.Demo;
using NetObserv.Server.Enrichment;
using NetObserv.Server.Ingest;
using NetObserv.Server.Ingest.LokiPush;
using NetObserv.Server.Metrics;
using NetObserv.Server.Tenants;
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

        var serverOptions = ValidatedSettings(builder.Configuration);

        var storageOptions = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>()
            ?? new StorageOptions();

        using (var startupLogging = LoggerFactory.Create(b => b.AddConfiguration(builder.Configuration.GetSection("Logging"))
            .AddSimpleConsole(o => o.SingleLine = true)))
        {
            var database = await FlowDatabase.OpenAsync(storageOptions, startupLogging, cancellationToken)
                .ConfigureAwait(false);
            builder.Services.AddSingleton(_ => database);
        }

        builder.Services.AddSingleton(serverOptions);
        builder.Services.AddCallerAuth(builder.Configuration);    // tokens file or Kubernetes reviews
        builder.Services.AddSingleton(sp => new TenantLimits(     // per-tenant queries in flight, push rate
            builder.Configuration.GetSection(TenantLimitsOptions.Section).Get<TenantLimitsOptions>() ?? new TenantLimitsOptions(),
            sp.GetRequiredService<TimeProvider>(),
            builder.Configuration[$"{LokiPushOptions.Section}:{nameof(LokiPushOptions.DefaultTenant)}"] ?? Flows.FlowRecord.DefaultTenant));
        builder.Services.AddNetObservMetrics();
        builder.Services.AddFlowStorage(builder.Configuration);   // writer, rollups, partitions
        builder.Services.AddFlowEnrichment(builder.Configuration); // Kubernetes informer or inventory
        builder.Services.AddFlowIngest(builder.Configuration);    // gRPC collector
        builder.Services.AddIpfixCollector(builder.Configuration); // IPFIX / NetFlow v9 over UDP
        builder.Services.AddLokiQuery(builder.Configuration);     // LogQL parser, planner, cache
        builder.Services.AddQueryGrpc();                          // the same engine over gRPC
        builder.Services.AddGrpcHealthChecks()                    // grpc.health.v1 on the gRPC ports
            .AddCheck("process", () => Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy());
        ConfigureEndpoints(builder, serverOptions);

        var app = builder.Build();

        // Listen to meters from the start, not from the first scrape.
        app.Services.GetRequiredService<PrometheusExporter>();
        app.UseListenerSeparation();   // the gRPC port serves pbflow.Collector and gRPC health only
        app.UseQueryGrpcPortOnly(serverOptions); // the gRPC query API answers on its own port
        app.UseCallerAuth();           // tokens: 401/403 before any Loki endpoint
        var tenantLimits = app.Services.GetRequiredService<TenantLimits>();
        app.Use(tenantLimits.InvokeAsync); // 429 past a tenant's queries in flight or push rate
        if (serverOptions.Ingests)
        {
            app.MapFlowCollector();    // pbflow.Collector/Send
            app.MapLokiPush();         // /loki/api/v1/push
        }

        if (serverOptions.Queries)
        {
            app.MapLokiApi();          // /loki/api/v1/* queries
            app.MapQueryGrpc();        // netobserv.query.v1.QueryService
        }

        app.MapGrpcHealthChecksService(); // grpc.health.v1
        app.MapOperationalEndpoints(); // /ready, /healthz, /metrics
        WarnWhenOpen(app, serverOptions);
        return app;
    }

    private static void ConfigureEndpoints(WebApplicationBuilder builder, ServerOptions options)
    {
        var endpoints = new ListenerEndpoints();
        builder.Services.AddSingleton(endpoints);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var certificate = string.IsNullOrEmpty(options.TlsCertificatePath) ? null
                : new PemCertificateReloader(options.TlsCertificatePath, options.TlsKeyPath, TimeProvider.System);
            // HTTP/2 needs TLS (ALPN) on this port; without it Kestrel would turn it off and warn at every start.
            Listen(kestrel, options.ListenAddress, options.HttpPort,
                certificate is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2, listen =>
            {
                endpoints.SetHttp(listen);
                if (certificate is not null)
                {
                    listen.UseHttps(new HttpsConnectionAdapterOptions
                    {
                        ServerCertificateSelector = (_, _) => certificate.Current,
                    });
                }
            });
            if (options.Queries)
            {
                Listen(kestrel, options.ListenAddress, options.QueryGrpcPort, HttpProtocols.Http2, endpoints.SetQueryGrpc);
            }

            if (options.Ingests)
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
                StringComparison.Ordinal) && (!options.Queries || context.Connection.LocalPort != endpoints.QueryGrpc?.Port))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            return next(context);
        });
    }

    /// <summary>
    /// Reads and checks the settings the host itself uses before anything starts (listeners, roles,
    /// authentication): every bad value is one line naming the key and what it allows, all reported at once.
    /// </summary>
    /// <exception cref="OptionsValidationException">A setting is invalid.</exception>
    private static ServerOptions ValidatedSettings(ConfigurationManager configuration)
    {
        var errors = new List<string>();
        EnumSetting<ServerRole>(configuration, "Server:Role", "all, ingest or query", errors);
        EnumSetting<AuthMode>(configuration, "Auth:Mode", "tokens or kubernetes", errors);
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), errors);
        }

        var server = configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        var auth = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var tenants = configuration.GetSection(TenantLimitsOptions.Section).Get<TenantLimitsOptions>() ?? new TenantLimitsOptions();
        errors.AddRange(server.Validate());
        errors.AddRange(auth.Validate());
        errors.AddRange(tenants.Validate());
        return errors.Count > 0
            ? throw new OptionsValidationException(ServerOptions.Section, typeof(ServerOptions), errors)
            : server;
    }

    private static void EnumSetting<T>(ConfigurationManager configuration, string key, string allowed, List<string> errors)
        where T : struct, Enum
    {
        if (configuration[key] is { } value && !(value.Length > 0 && Enum.TryParse<T>(value, ignoreCase: true, out var parsed)
            && Enum.IsDefined(parsed) && !char.IsAsciiDigit(value.TrimStart('-')[0])))
        {
            errors.Add($"{key} must be {allowed} (got '{value}').");
        }
    }

    /// <summary>True when the listeners reach beyond loopback while nobody has to authenticate.</summary>
    public static bool IsOpenBeyondLoopback(IServiceProvider services) =>
        !services.GetRequiredService<ServerOptions>().IsLoopbackOnly
        && !AuthServiceCollectionExtensions.IsOn(services.GetRequiredService<AuthOptions>());

    private static void WarnWhenOpen(WebApplication app, ServerOptions options)
    {
        if (IsOpenBeyondLoopback(app.Services))
        {
            AuthLog.OpenBeyondLoopback(app.Logger, options.ListenAddress);
        }
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
