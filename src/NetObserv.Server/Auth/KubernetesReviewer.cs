using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NetObserv.Server.Enrichment;

namespace NetObserv.Server.Auth;

/// <summary>
/// <c>Auth:Mode=kubernetes</c>: the bearer token is a Kubernetes token. A TokenReview says whose it is; a
/// SubjectAccessReview of <c>get pods</c> cluster-wide grants every namespace, else one per namespace (the
/// namespaces listed with the server's own account) grants those allowed, as NetObserv restricts
/// non-admin users. Identities get query access to <see cref="AuthOptions.KubernetesTenant"/> (a user allowed
/// no namespace has none: 403), and push access when they may <c>create</c> <c>network</c> in
/// <c>loki.grafana.com</c> (name <c>logs</c>), as a LokiStack gateway lets flowlogs-pipeline write. Decisions are kept <see cref="AuthOptions.KubernetesCacheTtl"/> per
/// token (its SHA-256). When the API server cannot answer, nothing is cached and the caller gets 503.
/// </summary>
internal sealed class KubernetesReviewer : ICallerAuthenticator, IDisposable
{
    /// <summary>Most decisions cached; past it expired ones are dropped, then all.</summary>
    public const int MaxCached = 10_000;

    /// <summary>
    /// Writing flows: <c>create</c> on <c>network</c> (<c>loki.grafana.com</c>, name <c>logs</c>), what a LokiStack
    /// gateway in <c>openshift-network</c> mode asks of flowlogs-pipeline's service account.
    /// </summary>
    private static readonly V1ResourceAttributes s_writeFlows = new()
    {
        Verb = "create",
        Group = "loki.grafana.com",
        Resource = "network",
        Name = "logs",
    };

    private readonly IKubernetes _client;
    private readonly AuthOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, (AuthResult Result, DateTimeOffset Expires)> _cache = new(StringComparer.Ordinal);
    private long _reviews;

    public KubernetesReviewer(AuthOptions options, TimeProvider time, ILogger<KubernetesReviewer> logger)
        : this(KubernetesInformer.CreateClient(options?.Kubeconfig, options?.KubernetesTimeout ?? TimeSpan.FromSeconds(10)),
            options!, time, logger)
    {
    }

    internal KubernetesReviewer(IKubernetes client, AuthOptions options, TimeProvider time, ILogger<KubernetesReviewer> logger)
    {
        _client = client;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>TokenReviews sent so far (a cached decision sends none).</summary>
    public long Reviews => Interlocked.Read(ref _reviews);

    public async ValueTask<AuthResult> AuthenticateAsync(string token, CancellationToken cancellationToken)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
        var now = _time.GetUtcNow();
        if (_cache.TryGetValue(key, out var cached) && cached.Expires > now)
        {
            return cached.Result;
        }

        AuthResult result;
        try
        {
            result = await ReviewAsync(token, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpOperationException or HttpRequestException or TaskCanceledException
            or IOException or TooManyNamespacesException)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var reason = e is HttpOperationException http
                ? $"the Kubernetes API answered {(int)http.Response.StatusCode}"
                : e is TooManyNamespacesException ? e.Message : "the Kubernetes API cannot be reached";
            AuthLog.ReviewFailed(_logger, reason + ": " + e.Message);
            return AuthResult.Failed(reason);
        }

        if (_options.KubernetesCacheTtl > TimeSpan.Zero)
        {
            if (_cache.Count >= MaxCached)
            {
                foreach (var (k, v) in _cache)
                {
                    if (v.Expires <= now)
                    {
                        _cache.TryRemove(k, out _);
                    }
                }

                if (_cache.Count >= MaxCached)
                {
                    _cache.Clear();
                }
            }

            _cache[key] = (result, now + _options.KubernetesCacheTtl);
        }

        return result;
    }

    private async Task<AuthResult> ReviewAsync(string token, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _reviews);
        var review = await _client.AuthenticationV1.CreateTokenReviewAsync(
            new V1TokenReview { Spec = new V1TokenReviewSpec { Token = token } }, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        if (review.Status?.Authenticated != true || review.Status.User is not { } user)
        {
            return AuthResult.Unknown;
        }

        var name = user.Username ?? "";
        var push = await AllowedAsync(user, s_writeFlows, cancellationToken).ConfigureAwait(false);
        if (await AllowedAsync(user, GetPods(null), cancellationToken).ConfigureAwait(false))
        {
            return AuthResult.Granted(new TokenGrant(name, [_options.KubernetesTenant], true, push, null));
        }

        var namespaces = await _client.CoreV1.ListNamespaceAsync(limit: _options.KubernetesMaxNamespaces + 1,
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (namespaces.Items.Count > _options.KubernetesMaxNamespaces || !string.IsNullOrEmpty(namespaces.Metadata?.ContinueProperty))
        {
            throw new TooManyNamespacesException(
                $"more than {_options.KubernetesMaxNamespaces} namespaces to check (Auth:KubernetesMaxNamespaces)");
        }

        var allowed = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(namespaces.Items, new ParallelOptions
        {
            MaxDegreeOfParallelism = 8,
            CancellationToken = cancellationToken,
        }, async (ns, ct) =>
        {
            if (await AllowedAsync(user, GetPods(ns.Metadata.Name), ct).ConfigureAwait(false))
            {
                allowed.Add(ns.Metadata.Name);
            }
        }).ConfigureAwait(false);

        return allowed.IsEmpty
            ? AuthResult.Granted(new TokenGrant(name, [_options.KubernetesTenant], false, push, null))
            : AuthResult.Granted(new TokenGrant(name, [_options.KubernetesTenant], true, push, [.. allowed]));
    }

    /// <summary><c>get pods</c> in <paramref name="ns"/> (null: cluster-wide).</summary>
    private static V1ResourceAttributes GetPods(string? ns) =>
        new() { Verb = "get", Resource = "pods", NamespaceProperty = ns };

    /// <summary>Whether <paramref name="user"/> may do <paramref name="attributes"/>.</summary>
    private async Task<bool> AllowedAsync(V1UserInfo user, V1ResourceAttributes attributes, CancellationToken cancellationToken)
    {
        var review = await _client.AuthorizationV1.CreateSubjectAccessReviewAsync(new V1SubjectAccessReview
        {
            Spec = new V1SubjectAccessReviewSpec
            {
                User = user.Username,
                Uid = user.Uid,
                Groups = user.Groups,
                Extra = user.Extra,
                ResourceAttributes = attributes,
            },
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        return review.Status?.Allowed == true;
    }

    public void Dispose() => _client.Dispose();

    private sealed class TooManyNamespacesException(string message) : Exception(message);
}
