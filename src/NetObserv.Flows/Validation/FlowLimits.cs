namespace NetObserv.Flows.Validation;

/// <summary>
/// What the store holds per flow, checked by <see cref="FlowValidator"/>. Text lengths are counted in UTF-8
/// bytes (Kubernetes names and label values are ASCII, so for them bytes are characters). The caps keep every
/// index entry well under PostgreSQL's b-tree limit (about 2,700 bytes): the widest key, a rollup's
/// <c>(tenant, bucket, namespaces, owner types, owner names, direction, layer, cluster)</c>, holds at most
/// 150 + 4 × 253 + 3 × 63 + 253 bytes of text, about 1,600 bytes.
/// </summary>
public static class FlowLimits
{
    /// <summary>
    /// Kubernetes object names (DNS subdomains, RFC 1123): <c>SrcK8S_Name</c>, <c>SrcK8S_Namespace</c>,
    /// <c>SrcK8S_OwnerName</c>, <c>SrcK8S_HostName</c> and their <c>Dst</c> twins, <c>K8S_ClusterName</c>, and
    /// <c>DnsName</c> (at most 253 characters in DNS too).
    /// </summary>
    public const int NameBytes = 253;

    /// <summary>
    /// Label-like values (a Kubernetes label value is at most 63 characters): <c>SrcK8S_Type</c>,
    /// <c>SrcK8S_OwnerType</c>, <c>SrcK8S_Zone</c> and their <c>Dst</c> twins, <c>K8S_FlowLayer</c>,
    /// <c>_RecordType</c>.
    /// </summary>
    public const int LabelValueBytes = 63;

    /// <summary>
    /// Other text, in no index: <c>_HashId</c>, each interface name, <c>PktDropLatestState</c>,
    /// <c>PktDropLatestDropCause</c>.
    /// </summary>
    public const int TextBytes = 1024;

    /// <summary>The tenant: Loki's own limit on <c>X-Scope-OrgID</c>.</summary>
    public const int TenantBytes = 150;

    /// <summary>Interfaces (and interface directions) of one flow.</summary>
    public const int MaxInterfaces = 64;

    /// <summary>
    /// Fields without a column (<see cref="FlowRecord.ExtraFields"/>), as JSON text: at most 8 KiB of UTF-8.
    /// </summary>
    public const int ExtraFieldsBytes = 8192;

    /// <summary>The largest MAC address, 48 bits.</summary>
    public const ulong MaxMac = 0xFFFF_FFFF_FFFF;
}
