using System.Security.Cryptography.X509Certificates;
using Grpc.AspNetCore.Server;
using Grpc.AspNetCore.Server.Model;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetObserv.Flows.Validation;
using NetObserv.Storage;

namespace NetObserv.Server.Ingest;

/// <summary>gRPC ingest (pbflow.Collector/Send) registrations and its listener.</summary>
internal static class IngestServiceCollectionExtensions
{
    /// <summary>
    /// Registers the collector: <see cref="IngestOptions"/> (validated at start, every error reported),
    /// the <see cref="FlowValidator"/> every ingest door checks records with (retention from
    /// <c>Storage:Retention</c>, skew from <see cref="IngestOptions.MaxFutureSkew"/>), gRPC with the
    /// configured receive limit, counters, and the service itself as a singleton.
    /// </summary>
    public static IServiceCollection AddFlowIngest(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<IngestOptions>().BindConfiguration(IngestOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IngestOptions>, IngestOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new FlowValidator(
            sp.GetRequiredService<IOptions<StorageOptions>>().Value.Retention,
            sp.GetRequiredService<IOptions<IngestOptions>>().Value.MaxFutureSkew,
            sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<CollectorMetrics>();
        services.TryAddSingleton<FlowIngestService>();
        services.TryAddSingleton<CollectorService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IServiceMethodProvider<CollectorService>, CollectorMethodProvider>());
        services.AddGrpc();
        services.AddOptions<GrpcServiceOptions<CollectorService>>()
            .Configure<IOptions<IngestOptions>>((grpc, ingest) =>
            {
                grpc.MaxReceiveMessageSize = ingest.Value.MaxReceiveMessageSize;
                grpc.EnableDetailedErrors = false;
            });
        return services;
    }

    public static IEndpointRouteBuilder MapFlowCollector(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGrpcService<CollectorService>();
        return endpoints;
    }

    /// <summary>
    /// Configures the gRPC listener: HTTP/2 only; h2c unless <see cref="IngestOptions.TlsCertificatePath"/>
    /// is set, then TLS, with client certificates checked against <see cref="IngestOptions.TlsClientCaPath"/>.
    /// </summary>
    public static void ConfigureGrpcListener(ListenOptions listen, IngestOptions options)
    {
        ArgumentNullException.ThrowIfNull(listen);
        ArgumentNullException.ThrowIfNull(options);
        listen.Protocols = HttpProtocols.Http2;
        if (string.IsNullOrEmpty(options.TlsCertificatePath))
        {
            return;
        }

        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(IngestOptions.Section, typeof(IngestOptions), errors);
        }

        var certificate = string.IsNullOrEmpty(options.TlsKeyPath)
            ? X509Certificate2.CreateFromPemFile(options.TlsCertificatePath)
            : X509Certificate2.CreateFromPemFile(options.TlsCertificatePath, options.TlsKeyPath);
        var https = new HttpsConnectionAdapterOptions { ServerCertificate = certificate };
        if (!string.IsNullOrEmpty(options.TlsClientCaPath))
        {
            var authorities = new X509Certificate2Collection();
            authorities.ImportFromPemFile(options.TlsClientCaPath);
            https.ClientCertificateMode = options.TlsRequireClientCertificate
                ? ClientCertificateMode.RequireCertificate
                : ClientCertificateMode.AllowCertificate;
            https.ClientCertificateValidation = (client, _, _) => ChainsTo(client, authorities);
        }

        listen.UseHttps(https);
    }

    private static bool ChainsTo(X509Certificate2 client, X509Certificate2Collection authorities)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(authorities);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(client);
    }

    private sealed class IngestOptionsValidator : IValidateOptions<IngestOptions>
    {
        public ValidateOptionsResult Validate(string? name, IngestOptions options)
        {
            var errors = options.Validate();
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }
}
