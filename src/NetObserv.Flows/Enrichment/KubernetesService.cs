namespace NetObserv.Flows.Enrichment;

/// <summary>The fields of a Service that enrichment needs (a trimmed <c>v1.Service</c>).</summary>
/// <param name="Namespace"><c>metadata.namespace</c>.</param>
/// <param name="Name"><c>metadata.name</c>.</param>
/// <param name="ClusterIPs"><c>spec.clusterIPs</c> (or <c>spec.clusterIP</c>); <c>None</c> is ignored.</param>
public sealed record KubernetesService(string Namespace, string Name, IReadOnlyList<string> ClusterIPs);
