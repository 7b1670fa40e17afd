using System.Net;

namespace NetObserv.Flows.Ipfix;

/// <summary>
/// What one (exporter address, observation domain or source id) has told us: its templates, its
/// system init time and its samplers. Owned by <see cref="IpfixTemplateCache"/>.
/// </summary>
internal sealed class IpfixSession
{
    public IpfixSession(IPAddress exporter)
    {
        Exporter = exporter;
    }

    public IPAddress Exporter { get; }

    public Dictionary<ushort, IpfixTemplate> Templates { get; } = [];

    /// <summary>systemInitTimeMilliseconds (IE 160) from an options record, Unix ms; 0 when unknown.</summary>
    public long SystemInitTimeMs { get; set; }

    /// <summary>The latest sampling an options record reported for this exporter (1 in N); 0 when none.</summary>
    public int Sampling { get; set; }

    /// <summary>Sampling per samplerId (IE 48) or selectorId (IE 302), from sampler options records.</summary>
    public Dictionary<long, int> Samplers { get; } = [];

    /// <summary>Last time a packet was decoded for this session (Unix ms).</summary>
    public long LastSeenMs { get; set; }
}
