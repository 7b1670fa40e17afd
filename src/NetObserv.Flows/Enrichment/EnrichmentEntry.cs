using System.Net;

namespace NetObserv.Flows.Enrichment;

/// <summary>
/// What enrichment knows of one address (or one CIDR): the values written to the <c>SrcK8S_*</c> or
/// <c>DstK8S_*</c> fields. Immutable, so one instance is shared by every flow that matches it.
/// </summary>
public sealed class EnrichmentEntry
{
    /// <summary><c>K8S_Type</c> of a pod.</summary>
    public const string Pod = "Pod";

    /// <summary><c>K8S_Type</c> of a node.</summary>
    public const string Node = "Node";

    /// <summary><c>K8S_Type</c> of a service.</summary>
    public const string Service = "Service";

    public EnrichmentEntry(string type, string name, string? @namespace, string ownerType, string ownerName,
        IPAddress? hostIP = null, string? hostName = null, string? zone = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(ownerType);
        ArgumentException.ThrowIfNullOrEmpty(ownerName);
        Type = type;
        Name = name;
        Namespace = string.IsNullOrEmpty(@namespace) ? null : @namespace;
        OwnerType = ownerType;
        OwnerName = ownerName;
        HostIP = hostIP;
        HostName = string.IsNullOrEmpty(hostName) ? null : hostName;
        Zone = string.IsNullOrEmpty(zone) ? null : zone;
        Rank = type switch
        {
            Pod => 0,
            Node => 1,
            Service => 2,
            _ => 3,
        };
    }

    /// <summary>Pod, Node or Service.</summary>
    public string Type { get; }

    public string Name { get; }

    /// <summary>Namespace; null (never empty) for nodes and namespace-less objects.</summary>
    public string? Namespace { get; }

    public string OwnerType { get; }

    public string OwnerName { get; }

    /// <summary>IP of the node hosting the object (the node's own IP for a node).</summary>
    public IPAddress? HostIP { get; }

    /// <summary>Name of the node hosting the object (the node itself for a node).</summary>
    public string? HostName { get; }

    /// <summary>The node's <c>topology.kubernetes.io/zone</c> label.</summary>
    public string? Zone { get; }

    /// <summary>Lookup precedence when one address has several objects: Pod, then Node, then Service.</summary>
    internal int Rank { get; }

    /// <summary>
    /// Writes the entry into one side of a flow the way flowlogs-pipeline's <c>add_kubernetes</c> does:
    /// type, name and owner always; namespace only when non-empty; host name only with a host IP.
    /// </summary>
    public void ApplyTo(KubernetesMetadata metadata)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        metadata.Type = Type;
        metadata.Name = Name;
        metadata.OwnerType = OwnerType;
        metadata.OwnerName = OwnerName;
        if (Namespace is not null)
        {
            metadata.Namespace = Namespace;
        }

        if (HostIP is not null)
        {
            metadata.HostIP = HostIP;
            if (HostName is not null)
            {
                metadata.HostName = HostName;
            }
        }

        if (Zone is not null)
        {
            metadata.Zone = Zone;
        }
    }

    public override string ToString() => Namespace is null ? $"{Type} {Name}" : $"{Type} {Namespace}/{Name}";
}
