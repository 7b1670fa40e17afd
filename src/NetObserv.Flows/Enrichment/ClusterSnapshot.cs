using System.Net;

namespace NetObserv.Flows.Enrichment;

/// <summary>
/// The cluster objects known at one moment, and how they become an <see cref="EnrichmentIndex"/>
/// (flowlogs-pipeline's informer rules):
/// <list type="bullet">
/// <item>Pods are indexed by their pod IPs, except an IP equal to the host IP (host-network pods),
/// which is left to the Node. Owner = <c>ownerReferences[0]</c>, a ReplicaSet replaced by its own
/// owner (Deployment), a Job by its own owner (CronJob); a pod without owner owns itself. Host IP =
/// <c>status.hostIP</c>, host name = <c>spec.nodeName</c> (else the node holding the host IP), zone =
/// that node's zone.</item>
/// <item>Nodes are indexed by every address that is an IP; Name = OwnerName = HostName = the node,
/// OwnerType Node, HostIP = the first address.</item>
/// <item>Services are indexed by their cluster IPs; the owner is the service itself.</item>
/// </list>
/// </summary>
public sealed class ClusterSnapshot
{
    public IReadOnlyCollection<KubernetesPod> Pods { get; init; } = [];
    public IReadOnlyCollection<KubernetesNode> Nodes { get; init; } = [];
    public IReadOnlyCollection<KubernetesService> Services { get; init; } = [];

    /// <summary>ReplicaSets by <c>namespace/name</c>.</summary>
    public IReadOnlyDictionary<string, KubernetesOwned> ReplicaSets { get; init; } =
        new Dictionary<string, KubernetesOwned>();

    /// <summary>Jobs by <c>namespace/name</c>.</summary>
    public IReadOnlyDictionary<string, KubernetesOwned> Jobs { get; init; } = new Dictionary<string, KubernetesOwned>();

    public EnrichmentIndex BuildIndex()
    {
        var builder = new EnrichmentIndexBuilder();
        var nodesByName = new Dictionary<string, (IPAddress? HostIP, string? Zone)>(StringComparer.Ordinal);
        var nodeNameByIp = new Dictionary<IPAddress, string>();
        foreach (var node in Nodes)
        {
            IPAddress? hostIp = null;
            var ips = new List<IPAddress>();
            foreach (var address in node.Addresses)
            {
                if (TryParse(address, out var ip))
                {
                    hostIp ??= ip;
                    ips.Add(ip);
                }
            }

            nodesByName[node.Name] = (hostIp, node.Zone);
            var entry = new EnrichmentEntry(EnrichmentEntry.Node, node.Name, null, EnrichmentEntry.Node, node.Name,
                hostIp, node.Name, node.Zone);
            foreach (var ip in ips)
            {
                builder.Add(ip, entry);
                nodeNameByIp.TryAdd(ip, node.Name);
            }
        }

        // Running pods first: between two pods claiming one IP, the first added wins.
        foreach (var finished in (ReadOnlySpan<bool>)[false, true])
        {
            foreach (var pod in Pods)
            {
                if (pod.Finished == finished)
                {
                    AddPod(builder, pod, nodesByName, nodeNameByIp);
                }
            }
        }

        foreach (var service in Services)
        {
            var entry = new EnrichmentEntry(EnrichmentEntry.Service, service.Name, service.Namespace,
                EnrichmentEntry.Service, service.Name);
            foreach (var clusterIp in service.ClusterIPs)
            {
                if (TryParse(clusterIp, out var ip))
                {
                    builder.Add(ip, entry);
                }
            }
        }

        return builder.Build();
    }

    private void AddPod(EnrichmentIndexBuilder builder, KubernetesPod pod,
        Dictionary<string, (IPAddress? HostIP, string? Zone)> nodesByName, Dictionary<IPAddress, string> nodeNameByIp)
    {
        IPAddress? hostIp = TryParse(pod.HostIP, out var h) ? h : null;
        var (ownerType, ownerName) = ResolveOwner(pod);
        var hostName = string.IsNullOrEmpty(pod.NodeName) ? null : pod.NodeName;
        if (hostName is null && hostIp is not null && nodeNameByIp.TryGetValue(hostIp, out var byIp))
        {
            hostName = byIp;
        }

        var zone = hostName is not null && nodesByName.TryGetValue(hostName, out var node) ? node.Zone : null;
        EnrichmentEntry? entry = null;
        foreach (var podIp in pod.PodIPs)
        {
            if (!TryParse(podIp, out var ip) || IpKeys.SameAddress(ip, hostIp))
            {
                continue; // host-network pod: its address resolves to the node
            }

            entry ??= new EnrichmentEntry(EnrichmentEntry.Pod, pod.Name, pod.Namespace, ownerType, ownerName, hostIp,
                hostName, zone);
            builder.Add(ip, entry);
        }
    }

    private (string Type, string Name) ResolveOwner(KubernetesPod pod)
    {
        if (string.IsNullOrEmpty(pod.OwnerKind) || string.IsNullOrEmpty(pod.OwnerName))
        {
            return (EnrichmentEntry.Pod, pod.Name);
        }

        var parents = pod.OwnerKind switch
        {
            "ReplicaSet" => ReplicaSets,
            "Job" => Jobs,
            _ => null,
        };
        if (parents is not null
            && parents.TryGetValue(pod.Namespace + "/" + pod.OwnerName, out var parent)
            && !string.IsNullOrEmpty(parent.OwnerKind) && !string.IsNullOrEmpty(parent.OwnerName))
        {
            return (parent.OwnerKind, parent.OwnerName);
        }

        return (pod.OwnerKind, pod.OwnerName);
    }

    private static bool TryParse(string? text, out IPAddress address)
    {
        if (!string.IsNullOrEmpty(text) && IPAddress.TryParse(text, out var parsed))
        {
            address = parsed.IsIPv4MappedToIPv6 ? parsed.MapToIPv4() : parsed;
            return true;
        }

        address = IPAddress.None;
        return false;
    }
}
