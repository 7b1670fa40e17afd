namespace NetObserv.Flows.Enrichment;

/// <summary>
/// Metadata of an intermediate owner (a ReplicaSet or a Job): who owns it in turn, from its
/// <c>metadata.ownerReferences[0]</c> (a Deployment, a CronJob), null when nobody does.
/// </summary>
public sealed record KubernetesOwned(string Namespace, string Name, string? OwnerKind, string? OwnerName);
