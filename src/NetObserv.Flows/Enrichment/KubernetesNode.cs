namespace NetObserv.Flows.Enrichment;

/// <summary>The fields of a Node that enrichment needs (a trimmed <c>v1.Node</c>).</summary>
/// <param name="Name"><c>metadata.name</c>.</param>
/// <param name="Addresses"><c>status.addresses[*].address</c> in order; entries that are not IPs (Hostname) are ignored.</param>
/// <param name="Zone">The <c>topology.kubernetes.io/zone</c> label.</param>
public sealed record KubernetesNode(string Name, IReadOnlyList<string> Addresses, string? Zone);
