namespace NetObserv.Server.Ingest;

/// <summary>IPFIX and NetFlow v9 UDP collector registrations.</summary>
internal static class IpfixServiceCollectionExtensions
{
    public static IServiceCollection AddIpfixCollector(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return services;
    }
}
