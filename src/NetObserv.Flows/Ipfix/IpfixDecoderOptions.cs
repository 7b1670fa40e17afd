namespace NetObserv.Flows.Ipfix;

/// <summary>Limits and defaults of <see cref="IpfixDecoder"/>.</summary>
public sealed class IpfixDecoderOptions
{
    /// <summary>How long a template stays usable after it was last received. Defaults to 30 minutes.</summary>
    public TimeSpan TemplateLifetime { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// Sampling (1 in N) applied to flows whose exporter reports none, neither in the record nor in a
    /// sampler options record. Defaults to 0 (unknown: counts are taken as they are).
    /// </summary>
    public int DefaultSampling { get; set; }

    /// <summary>Most (exporter, observation domain) pairs kept at once. Defaults to 10,000.</summary>
    public int MaxExporters { get; set; } = 10_000;

    /// <summary>Most templates kept per (exporter, observation domain). Defaults to 4,096.</summary>
    public int MaxTemplatesPerExporter { get; set; } = 4096;
}
