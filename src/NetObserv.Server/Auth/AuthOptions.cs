namespace NetObserv.Server.Auth;

/// <summary>How callers are authenticated (section <c>Auth</c>).</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>
    /// <c>tokens</c>: bearer tokens from <see cref="TokensFile"/> (authentication is on when it is set).
    /// <c>kubernetes</c>: the bearer token is a Kubernetes token, checked with a TokenReview; namespaces come
    /// from SubjectAccessReviews. Defaults to <c>tokens</c>.
    /// </summary>
    public AuthMode Mode { get; set; } = AuthMode.Tokens;

    /// <summary>
    /// The tokens file (YAML, <c>tokens:</c>; see docs/security.md), reloaded when it changes. Unset means no
    /// authentication in <c>tokens</c> mode. Defaults to none.
    /// </summary>
    public string? TokensFile { get; set; }

    /// <summary>How often the tokens file is checked for changes. Defaults to 5 seconds.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// When true and authentication is on, <c>/metrics</c> needs a token with any access, like the Loki API.
    /// Defaults to false (open, like <c>/ready</c> and <c>/healthz</c>).
    /// </summary>
    public bool MetricsRequireToken { get; set; }

    /// <summary>
    /// When true and authentication is on, a gRPC ingest call needs a bearer token with push access in its
    /// <c>authorization</c> metadata, or a client certificate the gRPC listener verified (mTLS). When false,
    /// a call without a token is accepted (into the default tenant); a call with one is still checked.
    /// Defaults to true.
    /// </summary>
    public bool GrpcRequireToken { get; set; } = true;

    /// <summary>
    /// Kubeconfig of the API server that reviews tokens in <c>kubernetes</c> mode. Defaults to the in-cluster
    /// service account, else <c>$KUBECONFIG</c> or <c>~/.kube/config</c>.
    /// </summary>
    public string? Kubeconfig { get; set; }

    /// <summary>Longest wait for one review request; past it the request is answered 503. Defaults to 10 seconds.</summary>
    public TimeSpan KubernetesTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Most namespaces checked one by one for a user without cluster-wide <c>get pods</c>; a cluster with more
    /// answers 503 for such users. Defaults to 2,000.
    /// </summary>
    public int KubernetesMaxNamespaces { get; set; } = 2_000;

    /// <summary>How long a review decision is reused for the same token. Defaults to 30 seconds.</summary>
    public TimeSpan KubernetesCacheTtl { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The tenant Kubernetes identities read (their only tenant; <c>X-Scope-OrgID</c> may name only it).
    /// Defaults to <c>default</c>.
    /// </summary>
    public string KubernetesTenant { get; set; } = "default";

    /// <summary>Every invalid setting, one line each naming the key and what it allows.</summary>
    public List<string> Validate()
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(Mode))
        {
            errors.Add($"{Section}:Mode must be tokens or kubernetes.");
        }

        if (ReloadInterval < TimeSpan.FromMilliseconds(100) || ReloadInterval > TimeSpan.FromHours(1))
        {
            errors.Add($"{Section}:ReloadInterval must be between 00:00:00.1 and 01:00:00 (got {ReloadInterval}).");
        }

        if (KubernetesCacheTtl < TimeSpan.Zero || KubernetesCacheTtl > TimeSpan.FromMinutes(10))
        {
            errors.Add($"{Section}:KubernetesCacheTtl must be between 00:00:00 and 00:10:00 (got {KubernetesCacheTtl}).");
        }

        if (KubernetesTimeout <= TimeSpan.Zero || KubernetesTimeout > TimeSpan.FromMinutes(5))
        {
            errors.Add($"{Section}:KubernetesTimeout must be between 00:00:00.001 and 00:05:00 (got {KubernetesTimeout}).");
        }

        if (KubernetesMaxNamespaces is < 1 or > 100_000)
        {
            errors.Add($"{Section}:KubernetesMaxNamespaces must be between 1 and 100000 (got {KubernetesMaxNamespaces}).");
        }

        if (!NetObserv.Flows.LokiPush.LokiPushTenant.IsValid(KubernetesTenant))
        {
            errors.Add($"{Section}:KubernetesTenant must be a tenant ID: 1 to 150 letters, digits or !-_.*'() (got '{KubernetesTenant}').");
        }

        return errors;
    }
}

/// <summary>How callers are authenticated.</summary>
public enum AuthMode
{
    /// <summary>Bearer tokens (or Basic with the token as password) from the tokens file.</summary>
    Tokens,

    /// <summary>Kubernetes tokens, checked with TokenReview and SubjectAccessReview.</summary>
    Kubernetes,
}
