namespace NetObserv.Flows.Enrichment;

/// <summary>Kubernetes enrichment settings (section <c>Enrichment</c>).</summary>
public sealed class EnrichmentOptions
{
    public const string Section = "Enrichment";

    /// <summary>Prefixes used when <see cref="InfraPrefixes"/> is not set: <c>kube-</c> and <c>openshift</c>.</summary>
    public static IReadOnlyList<string> DefaultInfraPrefixes { get; } = ["kube-", "openshift"];

    /// <summary>
    /// Objects used when <see cref="InfraRefs"/> is not set: <c>default/kubernetes</c> and
    /// <c>default/openshift</c> (the API server services).
    /// </summary>
    public static IReadOnlyList<string> DefaultInfraRefs { get; } = ["default/kubernetes", "default/openshift"];

    /// <summary>
    /// Static inventory file (YAML or JSON, see docs/enrichment.md), reloaded when it changes.
    /// Defaults to none.
    /// </summary>
    public string? InventoryFile { get; set; }

    /// <summary>How often the inventory file is checked for changes. Defaults to 2 seconds.</summary>
    public TimeSpan InventoryPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Watch Pods, Services, Nodes, ReplicaSets and Jobs of a Kubernetes cluster. Defaults to on when
    /// running in a cluster (<c>KUBERNETES_SERVICE_HOST</c> is set), else off.
    /// </summary>
    public bool? Kubernetes { get; set; }

    /// <summary>Kubeconfig file; defaults to the in-cluster service account, else <c>$KUBECONFIG</c> or <c>~/.kube/config</c>.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>
    /// Namespace prefixes whose objects make a flow <c>infra</c>. Defaults to <see cref="DefaultInfraPrefixes"/>.
    /// </summary>
    public string[]? InfraPrefixes { get; set; }

    /// <summary>
    /// <c>namespace/name</c> of single objects that count as infrastructure although their namespace
    /// does not match a prefix. Defaults to <see cref="DefaultInfraRefs"/>.
    /// </summary>
    public string[]? InfraRefs { get; set; }

    /// <summary>Written to <c>K8S_ClusterName</c> of flows that carry none. Defaults to none.</summary>
    public string? ClusterName { get; set; }

    /// <summary>
    /// The Kubernetes informer relists every kind at this interval, healing anything a watch missed;
    /// zero disables it. Defaults to 30 minutes.
    /// </summary>
    public TimeSpan ResyncPeriod { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Whether the Kubernetes informer runs, given the process environment.</summary>
    public bool IsKubernetesEnabled(Func<string, string?> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        return Kubernetes ?? !string.IsNullOrEmpty(environment("KUBERNETES_SERVICE_HOST"));
    }

    /// <summary>Every configuration error, empty when the options are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (InventoryPollInterval <= TimeSpan.Zero)
        {
            errors.Add($"{Section}:InventoryPollInterval must be positive (was {InventoryPollInterval}).");
        }

        if (ResyncPeriod < TimeSpan.Zero)
        {
            errors.Add($"{Section}:ResyncPeriod must be zero (off) or positive (was {ResyncPeriod}).");
        }

        foreach (var prefix in InfraPrefixes ?? [])
        {
            if (string.IsNullOrEmpty(prefix))
            {
                errors.Add($"{Section}:InfraPrefixes must not contain an empty prefix (it would match every namespace).");
            }
        }

        foreach (var reference in InfraRefs ?? [])
        {
            if (!TryParseRef(reference, out _, out _))
            {
                errors.Add($"{Section}:InfraRefs entry '{reference}' is not namespace/name.");
            }
        }

        return errors;
    }

    internal static bool TryParseRef(string? reference, out string @namespace, out string name)
    {
        var slash = reference?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (reference is null || slash <= 0 || slash == reference.Length - 1
            || reference.IndexOf('/', slash + 1) >= 0)
        {
            @namespace = name = "";
            return false;
        }

        @namespace = reference[..slash];
        name = reference[(slash + 1)..];
        return true;
    }
}
