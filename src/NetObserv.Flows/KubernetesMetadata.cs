using System.Net;

namespace NetObserv.Flows;

/// <summary>
/// What Kubernetes enrichment knows of one address: the <c>SrcK8S_*</c> or <c>DstK8S_*</c> fields.
/// </summary>
public sealed class KubernetesMetadata
{
    /// <summary>Pod, Service or Node name (<c>K8S_Name</c>).</summary>
    public string? Name { get; set; }

    /// <summary>Pod, Service or Node (<c>K8S_Type</c>).</summary>
    public string? Type { get; set; }

    /// <summary>Namespace; never an empty string (absent instead).</summary>
    public string? Namespace { get; set; }

    /// <summary>Owner name: Deployment, StatefulSet, DaemonSet, CronJob..., or the object itself.</summary>
    public string? OwnerName { get; set; }

    /// <summary>Owner kind.</summary>
    public string? OwnerType { get; set; }

    /// <summary>IP of the node hosting the object.</summary>
    public IPAddress? HostIP { get; set; }

    /// <summary>Name of the node hosting the object.</summary>
    public string? HostName { get; set; }

    /// <summary>The node's <c>topology.kubernetes.io/zone</c> label.</summary>
    public string? Zone { get; set; }

    /// <summary>
    /// The label of the subnet the address belongs to (<c>SrcSubnetLabel</c> / <c>DstSubnetLabel</c>), as
    /// flowlogs-pipeline's subnet labelling sets it.
    /// </summary>
    public string? SubnetLabel { get; set; }

    /// <summary>True when no field is set.</summary>
    public bool IsEmpty =>
        Name is null && Type is null && Namespace is null && OwnerName is null && OwnerType is null
        && HostIP is null && HostName is null && Zone is null && SubnetLabel is null;

    /// <summary>Copies every field of <paramref name="other"/> into this instance.</summary>
    public void CopyFrom(KubernetesMetadata other)
    {
        ArgumentNullException.ThrowIfNull(other);
        Name = other.Name;
        Type = other.Type;
        Namespace = other.Namespace;
        OwnerName = other.OwnerName;
        OwnerType = other.OwnerType;
        HostIP = other.HostIP;
        HostName = other.HostName;
        Zone = other.Zone;
        SubnetLabel = other.SubnetLabel;
    }
}
