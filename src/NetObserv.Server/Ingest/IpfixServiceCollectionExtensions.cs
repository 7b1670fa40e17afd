using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using NetObserv.Server.Hosting;

namespace NetObserv.Server.Ingest;

/// <summary>IPFIX and NetFlow v9 UDP collector registrations.</summary>
internal static class IpfixServiceCollectionExtensions
{
    public static IServiceCollection AddIpfixCollector(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var server = configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        if (!server.Ingests)
        {
            return services;
        }

        services.AddOptions<ServerOptions>().BindConfiguration(ServerOptions.Section);
        services.AddOptions<IpfixOptions>().BindConfiguration(IpfixOptions.Section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<IpfixOptions>, IpfixOptionsValidator>());
        services.TryAddSingleton<IpfixCollectorService>();
        services.AddHostedService(sp => sp.GetRequiredService<IpfixCollectorService>());
        return services;
    }
}
