namespace NetObserv.Flows.Enrichment;

/// <summary>The fields of a Pod that enrichment needs (a trimmed <c>v1.Pod</c>).</summary>
/// <param name="Namespace"><c>metadata.namespace</c>.</param>
/// <param name="Name"><c>metadata.name</c>.</param>
/// <param name="PodIPs"><c>status.podIPs</c> (or <c>status.podIP</c>).</param>
/// <param name="HostIP"><c>status.hostIP</c>.</param>
/// <param name="NodeName"><c>spec.nodeName</c>.</param>
/// <param name="OwnerKind">Kind of <c>metadata.ownerReferences[0]</c>, null without owner.</param>
/// <param name="OwnerName">Name of <c>metadata.ownerReferences[0]</c>.</param>
/// <param name="Finished">Phase Succeeded or Failed: its IPs may already belong to a newer pod.</param>
public sealed record KubernetesPod(string Namespace, string Name, IReadOnlyList<string> PodIPs, string? HostIP,
    string? NodeName, string? OwnerKind, string? OwnerName, bool Finished = false);
