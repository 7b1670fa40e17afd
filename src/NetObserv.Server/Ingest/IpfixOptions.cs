using Microsoft.Extensions.Options;

namespace NetObserv.Server.Ingest;

/// <summary>IPFIX / NetFlow v9 collector settings (section <c>Ipfix</c>). Ports are in <c>Server</c>.</summary>
public sealed class IpfixOptions
{
    public const string Section = "Ipfix";

    /// <summary>
    /// Socket receive buffer in bytes: what absorbs a burst while the receive thread catches up (a softflowd burst of
    /// 300,000 flows is about 10,000 datagrams, some 25 MB of kernel memory). With CAP_NET_ADMIN (root) it is set
    /// beyond net.core.rmem_max (SO_RCVBUFFORCE); otherwise the kernel caps it there and the start log says which
    /// sysctl lifts the cap. 0 keeps the system default. Defaults to 32 MiB.
    /// </summary>
    public int ReceiveBufferBytes { get; set; } = 32 * 1024 * 1024;

    /// <summary>How long a template stays usable after it was last received. Defaults to 30 minutes.</summary>
    public TimeSpan TemplateLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Packets waiting between the sockets and the decoder; more are dropped and counted. Defaults to 10,000.</summary>
    public int QueueCapacity { get; set; } = 10_000;

    /// <summary>Sampling (1 in N) assumed for exporters that report none. Defaults to 0 (counts taken as they are).</summary>
    public int DefaultSampling { get; set; }

    /// <summary>Most (exporter, observation domain) pairs whose templates are kept. Defaults to 10,000.</summary>
    public int MaxExporters { get; set; } = 10_000;
}

/// <summary>Checks <see cref="IpfixOptions"/> and reports every problem at once.</summary>
internal sealed class IpfixOptionsValidator : IValidateOptions<IpfixOptions>
{
    public ValidateOptionsResult Validate(string? name, IpfixOptions options)
    {
        List<string>? errors = null;
        if (options.ReceiveBufferBytes < 0)
        {
            (errors ??= []).Add("Ipfix:ReceiveBufferBytes must be 0 (system default) or more.");
        }

        if (options.TemplateLifetime <= TimeSpan.Zero)
        {
            (errors ??= []).Add("Ipfix:TemplateLifetime must be positive.");
        }

        if (options.QueueCapacity < 1)
        {
            (errors ??= []).Add("Ipfix:QueueCapacity must be at least 1.");
        }

        if (options.DefaultSampling < 0)
        {
            (errors ??= []).Add("Ipfix:DefaultSampling must be 0 or more.");
        }

        if (options.MaxExporters < 1)
        {
            (errors ??= []).Add("Ipfix:MaxExporters must be at least 1.");
        }

        return errors is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
