using System.Net;

namespace NetObserv.Flows.Enrichment;

/// <summary>
/// Fills the Kubernetes fields of a flow from the current <see cref="EnrichmentIndex"/>, with
/// flowlogs-pipeline's semantics so dashboards written for NetObserv read the same:
/// <list type="bullet">
/// <item><c>add_kubernetes</c> for source and destination: Pod, then Node, then Service (the index
/// resolves that order), longest CIDR of the inventory when no address matches; a namespace is never
/// written empty.</item>
/// <item><c>reinterpret_direction</c>: with <c>AgentIP</c> set and different source and destination
/// hosts, <c>FlowDirection</c> becomes 1 (egress) when the source host is the agent, 0 (ingress) when
/// the destination host is; 2 (inner) when both hosts are the same non-empty host; else it is left.</item>
/// <item><c>add_kubernetes_infra</c>: <c>K8S_FlowLayer</c> is <c>app</c> when a side has a namespace
/// that matches no infra prefix and is not an infra reference, else <c>infra</c>.</item>
/// </list>
/// Sources publish whole indexes (<see cref="Publish"/>); <see cref="Enrich"/> reads the current one
/// with one volatile read, takes no lock and allocates nothing.
/// </summary>
public sealed class KubernetesEnricher : IFlowEnricher
{
    /// <summary><c>K8S_FlowLayer</c> of flows between infrastructure objects.</summary>
    public const string InfraLayer = "infra";

    /// <summary><c>K8S_FlowLayer</c> of flows with an application object on either side.</summary>
    public const string AppLayer = "app";

    private readonly Lock _publishLock = new();
    private readonly string[] _infraPrefixes;
    private readonly (string Namespace, string Name)[] _infraRefs;
    private readonly string? _clusterName;
    private readonly bool _resolvesAddresses;
    private EnrichmentIndex _index = EnrichmentIndex.Empty;
    private EnrichmentIndex _kubernetes = EnrichmentIndex.Empty;
    private EnrichmentIndex _inventory = EnrichmentIndex.Empty;
    private long _version;

    /// <param name="options">Infra prefixes and references, cluster name.</param>
    /// <param name="resolvesAddresses">
    /// False when no source is configured: then only <c>K8S_ClusterName</c> is written, and neither
    /// <c>K8S_FlowLayer</c> nor <c>FlowDirection</c> is derived from an index that can never know anything.
    /// </param>
    public KubernetesEnricher(EnrichmentOptions options, bool resolvesAddresses = true)
    {
        ArgumentNullException.ThrowIfNull(options);
        _infraPrefixes = [.. options.InfraPrefixes ?? EnrichmentOptions.DefaultInfraPrefixes];
        var refs = new List<(string, string)>();
        foreach (var reference in options.InfraRefs ?? EnrichmentOptions.DefaultInfraRefs)
        {
            if (EnrichmentOptions.TryParseRef(reference, out var ns, out var name))
            {
                refs.Add((ns, name));
            }
        }

        _infraRefs = [.. refs];
        _clusterName = string.IsNullOrEmpty(options.ClusterName) ? null : options.ClusterName;
        _resolvesAddresses = resolvesAddresses;
    }

    /// <summary>The index lookups use now (every source merged).</summary>
    public EnrichmentIndex Index => Volatile.Read(ref _index);

    /// <summary>How many times an index was published; grows by one per <see cref="Publish"/>.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Replaces what <paramref name="source"/> knows and swaps in the merged index.</summary>
    public void Publish(EnrichmentSource source, EnrichmentIndex index)
    {
        ArgumentNullException.ThrowIfNull(index);
        lock (_publishLock)
        {
            if (source == EnrichmentSource.Kubernetes)
            {
                _kubernetes = index;
            }
            else
            {
                _inventory = index;
            }

            Volatile.Write(ref _index, EnrichmentIndex.Merge(_kubernetes, _inventory));
            Interlocked.Increment(ref _version);
        }
    }

    /// <inheritdoc />
    public void Enrich(FlowRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (_clusterName is not null && record.K8SClusterName is null)
        {
            record.K8SClusterName = _clusterName;
        }

        if (!_resolvesAddresses)
        {
            return;
        }

        var index = Volatile.Read(ref _index);
        if (record.SrcAddr is { } src && index.Lookup(src) is { } srcEntry)
        {
            srcEntry.ApplyTo(record.Src);
        }

        if (record.DstAddr is { } dst && index.Lookup(dst) is { } dstEntry)
        {
            dstEntry.ApplyTo(record.Dst);
        }

        ReinterpretDirection(record);
        record.K8SFlowLayer = IsApp(record.Src) || IsApp(record.Dst) ? AppLayer : InfraLayer;
    }

    private static void ReinterpretDirection(FlowRecord record)
    {
        var reporter = record.AgentIP;
        if (reporter is null)
        {
            return;
        }

        IPAddress? srcHost = record.Src.HostIP, dstHost = record.Dst.HostIP;
        if (!IpKeys.SameAddress(srcHost, dstHost))
        {
            if (IpKeys.SameAddress(srcHost, reporter))
            {
                record.FlowDirection = 1;
            }
            else if (IpKeys.SameAddress(dstHost, reporter))
            {
                record.FlowDirection = 0;
            }
        }
        else if (srcHost is not null)
        {
            record.FlowDirection = 2;
        }
    }

    private bool IsApp(KubernetesMetadata side)
    {
        var ns = side.Namespace;
        if (string.IsNullOrEmpty(ns))
        {
            return false;
        }

        foreach (var prefix in _infraPrefixes)
        {
            if (ns.StartsWith(prefix, StringComparison.Ordinal))
            {
                return false;
            }
        }

        foreach (var (refNamespace, refName) in _infraRefs)
        {
            if (string.Equals(ns, refNamespace, StringComparison.Ordinal)
                && string.Equals(side.Name, refName, StringComparison.Ordinal))
            {
                return false;
            }
        }

        return true;
    }
}
