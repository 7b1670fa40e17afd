using System.Net;
using System.Threading.Channels;
using k8s;
using k8s.Autorest;
using k8s.Models;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Server.Enrichment;

/// <summary>
/// Keeps the Kubernetes part of the enrichment index in step with the cluster: for each of Pods,
/// Services, Nodes, ReplicaSets and Jobs, list (paged) then watch from the list's resource version with
/// bookmarks; ADDED/MODIFIED/DELETED update a trimmed local copy, BOOKMARK only moves the resource
/// version, a watch that ends is resumed from the last version, and an expired version (410 Gone, as an
/// ERROR event or as the HTTP status) or the periodic resync lists again from scratch. Any change
/// schedules a rebuild of the index, at most one per <see cref="DebounceInterval"/>; the first index is
/// published once every kind has been listed (or has failed its first list).
/// </summary>
internal sealed class KubernetesInformer : BackgroundService
{
    private const int PageSize = 500;
    private static readonly TimeSpan s_maxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_watchGrace = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan s_clientTimeout = TimeSpan.FromMinutes(10);
    private static readonly TimeSpan s_shortWatch = TimeSpan.FromSeconds(1);

    private readonly Func<IKubernetes> _clientFactory;
    private readonly KubernetesEnricher _enricher;
    private readonly EnrichmentOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, KubernetesPod> _pods = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KubernetesService> _services = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KubernetesNode> _nodes = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KubernetesOwned> _replicaSets = new(StringComparer.Ordinal);
    private readonly Dictionary<string, KubernetesOwned> _jobs = new(StringComparer.Ordinal);
    private readonly Channel<bool> _changed = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private int _kindsPending = 5;

    public KubernetesInformer(Func<IKubernetes> clientFactory, KubernetesEnricher enricher, EnrichmentOptions options,
        TimeProvider time, ILogger<KubernetesInformer> logger)
    {
        _clientFactory = clientFactory;
        _enricher = enricher;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Minimum time between two index rebuilds. Defaults to 500 ms.</summary>
    public TimeSpan DebounceInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Longest a single watch request stays open before it is resumed (the server may end it sooner).
    /// Defaults to 5 minutes; must stay below the client timeout (10 minutes).
    /// </summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Builds the client from <see cref="EnrichmentOptions.Kubeconfig"/>, else in-cluster, else the default kubeconfig.</summary>
    public static IKubernetes CreateClient(EnrichmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // A watch request completes only with its first event, so the client timeout must outlast a quiet watch.
        return CreateClient(options.Kubeconfig, s_clientTimeout);
    }

    /// <summary>A client from <paramref name="kubeconfig"/>, else in-cluster, else the default kubeconfig.</summary>
    public static IKubernetes CreateClient(string? kubeconfig, TimeSpan timeout)
    {
        KubernetesClientConfiguration config;
        if (!string.IsNullOrEmpty(kubeconfig))
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfig);
        }
        else if (KubernetesClientConfiguration.IsInCluster())
        {
            config = KubernetesClientConfiguration.InClusterConfig();
        }
        else
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile();
        }

        config.HttpClientTimeout = timeout;
        return new Kubernetes(config);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        IKubernetes client;
        try
        {
            client = _clientFactory();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            EnrichmentLog.KubernetesConfigFailed(_logger, e);
            return;
        }

        using (client)
        {
            var server = (client as Kubernetes)?.BaseUri?.ToString() ?? "the cluster";
            EnrichmentLog.KubernetesStarted(_logger, server);
            var loops = new[]
            {
                RunAsync("pods", _pods, ToPod,
                    (c, ct) => client.CoreV1.ListPodForAllNamespacesAsync(continueParameter: c, limit: PageSize,
                        cancellationToken: ct),
                    (rv, t, onError, ct) => client.CoreV1.WatchListPodForAllNamespacesAsync(allowWatchBookmarks: true,
                        resourceVersion: rv, timeoutSeconds: t, onError: onError, cancellationToken: ct),
                    stoppingToken),
                RunAsync("services", _services, ToService,
                    (c, ct) => client.CoreV1.ListServiceForAllNamespacesAsync(continueParameter: c, limit: PageSize,
                        cancellationToken: ct),
                    (rv, t, onError, ct) => client.CoreV1.WatchListServiceForAllNamespacesAsync(
                        allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: t, onError: onError,
                        cancellationToken: ct),
                    stoppingToken),
                RunAsync("nodes", _nodes, ToNode,
                    (c, ct) => client.CoreV1.ListNodeAsync(continueParameter: c, limit: PageSize, cancellationToken: ct),
                    (rv, t, onError, ct) => client.CoreV1.WatchListNodeAsync(allowWatchBookmarks: true,
                        resourceVersion: rv, timeoutSeconds: t, onError: onError, cancellationToken: ct),
                    stoppingToken),
                RunAsync("replicasets", _replicaSets, ToOwned,
                    (c, ct) => client.AppsV1.ListReplicaSetForAllNamespacesAsync(continueParameter: c,
                        limit: PageSize, cancellationToken: ct),
                    (rv, t, onError, ct) => client.AppsV1.WatchListReplicaSetForAllNamespacesAsync(
                        allowWatchBookmarks: true, resourceVersion: rv, timeoutSeconds: t, onError: onError,
                        cancellationToken: ct),
                    stoppingToken),
                RunAsync("jobs", _jobs, ToOwned,
                    (c, ct) => client.BatchV1.ListJobForAllNamespacesAsync(continueParameter: c, limit: PageSize,
                        cancellationToken: ct),
                    (rv, t, onError, ct) => client.BatchV1.WatchListJobForAllNamespacesAsync(allowWatchBookmarks: true,
                        resourceVersion: rv, timeoutSeconds: t, onError: onError, cancellationToken: ct),
                    stoppingToken),
                PublishLoopAsync(stoppingToken),
            };
            await Task.WhenAll(loops).ConfigureAwait(false);
        }
    }

    private async Task RunAsync<TObject, TList, TValue>(string kind, Dictionary<string, TValue> store,
        Func<TObject, TValue?> convert,
        Func<string?, CancellationToken, Task<TList>> list,
        Func<string, int, Action<Exception>, CancellationToken, IAsyncEnumerable<(WatchEventType, TObject)>> watch,
        CancellationToken cancellationToken)
        where TObject : IKubernetesObject<V1ObjectMeta>
        where TList : IKubernetesObject<V1ListMeta>, IItems<TObject>
        where TValue : class
    {
        string? resourceVersion = null;
        var listedAt = 0L;
        var attempted = false;
        var backoff = TimeSpan.FromSeconds(1);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                if (resourceVersion is not null && _options.ResyncPeriod > TimeSpan.Zero
                    && _time.GetElapsedTime(listedAt) >= _options.ResyncPeriod)
                {
                    EnrichmentLog.KubernetesResync(_logger, kind);
                    resourceVersion = null;
                }

                if (resourceVersion is null)
                {
                    resourceVersion = await ListAsync(kind, store, convert, list, cancellationToken).ConfigureAwait(false);
                    listedAt = _time.GetTimestamp();
                    if (!attempted)
                    {
                        attempted = true;
                        Interlocked.Decrement(ref _kindsPending);
                    }

                    Signal();
                }

                var gone = false;
                var timeout = WatchTimeout;
                if (_options.ResyncPeriod > TimeSpan.Zero)
                {
                    var untilResync = _options.ResyncPeriod - _time.GetElapsedTime(listedAt);
                    timeout = untilResync < timeout ? untilResync : timeout;
                }

                var timeoutSeconds = Math.Max(1, (int)Math.Ceiling(timeout.TotalSeconds));
                void OnError(Exception e)
                {
                    if (e is KubernetesException { Status.Code: (int)HttpStatusCode.Gone })
                    {
                        gone = true;
                    }
                    else
                    {
                        EnrichmentLog.KubernetesWatchEventError(_logger, kind, e.Message);
                    }
                }

                // The server ends the watch after timeoutSeconds; a stream that outlives it (a proxy that
                // ignores the parameter) is cut here, so resync and resumption never depend on the server.
                using var watchCancellation = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                watchCancellation.CancelAfter(TimeSpan.FromSeconds(timeoutSeconds) + s_watchGrace);
                var events = watch(resourceVersion!, timeoutSeconds, OnError, watchCancellation.Token);
                var watchStarted = _time.GetTimestamp();
                var received = 0;
                await foreach (var (type, item) in UntilWatchEnds(events, cancellationToken)
                    .ConfigureAwait(false))
                {
                    received++;
                    if (item?.Metadata?.ResourceVersion is { Length: > 0 } version)
                    {
                        resourceVersion = version;
                    }

                    if (type is WatchEventType.Added or WatchEventType.Modified or WatchEventType.Deleted
                        && item?.Metadata?.Name is not null)
                    {
                        var key = Key(item.Metadata);
                        var value = type == WatchEventType.Deleted ? null : convert(item);
                        lock (_lock)
                        {
                            if (value is null)
                            {
                                store.Remove(key);
                            }
                            else
                            {
                                store[key] = value;
                            }
                        }

                        Signal();
                    }
                }

                backoff = TimeSpan.FromSeconds(1);
                if (gone)
                {
                    EnrichmentLog.KubernetesWatchGone(_logger, kind);
                    resourceVersion = null;
                }
                else if (received == 0 && _time.GetElapsedTime(watchStarted) < s_shortWatch)
                {
                    // A server that ends watches at once must not be asked again in a tight loop.
                    await Task.Delay(s_shortWatch, _time, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (HttpOperationException e) when (e.Response?.StatusCode == HttpStatusCode.Gone)
            {
                EnrichmentLog.KubernetesWatchGone(_logger, kind);
                resourceVersion = null;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                if (!attempted)
                {
                    // A kind we may not read (RBAC) must not hold back the others.
                    attempted = true;
                    Interlocked.Decrement(ref _kindsPending);
                    Signal();
                }

                EnrichmentLog.KubernetesWatchFailed(_logger, kind, (long)backoff.TotalMilliseconds, e);
                try
                {
                    await Task.Delay(backoff, _time, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                backoff = backoff * 2 > s_maxBackoff ? s_maxBackoff : backoff * 2;
            }
        }
    }

    private async Task<string?> ListAsync<TObject, TList, TValue>(string kind, Dictionary<string, TValue> store,
        Func<TObject, TValue?> convert, Func<string?, CancellationToken, Task<TList>> list,
        CancellationToken cancellationToken)
        where TObject : IKubernetesObject<V1ObjectMeta>
        where TList : IKubernetesObject<V1ListMeta>, IItems<TObject>
        where TValue : class
    {
        var fresh = new Dictionary<string, TValue>(StringComparer.Ordinal);
        string? continueToken = null;
        string? resourceVersion;
        do
        {
            var page = await list(continueToken, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items ?? [])
            {
                if (item?.Metadata?.Name is not null && convert(item) is { } value)
                {
                    fresh[Key(item.Metadata)] = value;
                }
            }

            resourceVersion = page.Metadata?.ResourceVersion;
            continueToken = page.Metadata?.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(continueToken));

        lock (_lock)
        {
            store.Clear();
            foreach (var (key, value) in fresh)
            {
                store[key] = value;
            }
        }

        EnrichmentLog.KubernetesListed(_logger, fresh.Count, kind, resourceVersion);

        // Without a version to resume from, the next watch would start "from any point": list again instead.
        return string.IsNullOrEmpty(resourceVersion) ? "0" : resourceVersion;
    }

    /// <summary>
    /// Ends the enumeration quietly when the watch simply ended: its own deadline (not the service)
    /// cancelled it, or the server closed a stream that carried no event at all (KubernetesClient waits
    /// for a first line and reports an empty stream as an <see cref="EndOfStreamException"/>).
    /// </summary>
    private static async IAsyncEnumerable<T> UntilWatchEnds<T>(IAsyncEnumerable<T> source,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken stopping = default)
    {
        await using var enumerator = source.GetAsyncEnumerator(stopping);
        while (true)
        {
            T current;
            try
            {
                if (!await enumerator.MoveNextAsync().ConfigureAwait(false))
                {
                    yield break;
                }

                current = enumerator.Current;
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                yield break;
            }
            catch (HttpRequestException e) when (e.InnerException is EndOfStreamException)
            {
                yield break;
            }

            yield return current;
        }
    }

    private void Signal() => _changed.Writer.TryWrite(true);

    private async Task PublishLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await _changed.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                _changed.Reader.TryRead(out _);
                if (Volatile.Read(ref _kindsPending) > 0)
                {
                    continue;
                }

                Publish();
                await Task.Delay(DebounceInterval, _time, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
    }

    private void Publish()
    {
        var started = _time.GetTimestamp();
        ClusterSnapshot snapshot;
        lock (_lock)
        {
            snapshot = new ClusterSnapshot
            {
                Pods = [.. _pods.Values],
                Services = [.. _services.Values],
                Nodes = [.. _nodes.Values],
                ReplicaSets = new Dictionary<string, KubernetesOwned>(_replicaSets, StringComparer.Ordinal),
                Jobs = new Dictionary<string, KubernetesOwned>(_jobs, StringComparer.Ordinal),
            };
        }

        var index = snapshot.BuildIndex();
        _enricher.Publish(EnrichmentSource.Kubernetes, index);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            var elapsedMs = (long)_time.GetElapsedTime(started).TotalMilliseconds;
            EnrichmentLog.KubernetesIndexPublished(_logger, snapshot.Pods.Count, snapshot.Nodes.Count,
                snapshot.Services.Count, index.AddressCount, elapsedMs);
        }
    }

    private static string Key(V1ObjectMeta metadata) =>
        string.IsNullOrEmpty(metadata.NamespaceProperty) ? metadata.Name : metadata.NamespaceProperty + "/" + metadata.Name;

    private static (string? Kind, string? Name) FirstOwner(V1ObjectMeta metadata) =>
        metadata.OwnerReferences is { Count: > 0 } owners ? (owners[0].Kind, owners[0].Name) : (null, null);

    internal static KubernetesPod? ToPod(V1Pod pod)
    {
        var metadata = pod.Metadata;
        if (metadata?.Name is null)
        {
            return null;
        }

        var ips = new List<string>();
        foreach (var podIp in pod.Status?.PodIPs ?? [])
        {
            if (!string.IsNullOrEmpty(podIp?.Ip))
            {
                ips.Add(podIp.Ip);
            }
        }

        if (ips.Count == 0 && !string.IsNullOrEmpty(pod.Status?.PodIP))
        {
            ips.Add(pod.Status.PodIP);
        }

        var (ownerKind, ownerName) = FirstOwner(metadata);
        return new KubernetesPod(metadata.NamespaceProperty ?? "", metadata.Name, ips, pod.Status?.HostIP,
            pod.Spec?.NodeName, ownerKind, ownerName, pod.Status?.Phase is "Succeeded" or "Failed");
    }

    internal static KubernetesService? ToService(V1Service service)
    {
        var metadata = service.Metadata;
        if (metadata?.Name is null)
        {
            return null;
        }

        var ips = new List<string>();
        foreach (var ip in service.Spec?.ClusterIPs ?? [])
        {
            if (!string.IsNullOrEmpty(ip) && ip != "None")
            {
                ips.Add(ip);
            }
        }

        if (ips.Count == 0 && service.Spec?.ClusterIP is { Length: > 0 } clusterIp && clusterIp != "None")
        {
            ips.Add(clusterIp);
        }

        return new KubernetesService(metadata.NamespaceProperty ?? "", metadata.Name, ips);
    }

    internal static KubernetesNode? ToNode(V1Node node)
    {
        var metadata = node.Metadata;
        if (metadata?.Name is null)
        {
            return null;
        }

        var addresses = new List<string>();
        foreach (var address in node.Status?.Addresses ?? [])
        {
            if (!string.IsNullOrEmpty(address?.Address))
            {
                addresses.Add(address.Address);
            }
        }

        string? zone = null;
        metadata.Labels?.TryGetValue("topology.kubernetes.io/zone", out zone);
        return new KubernetesNode(metadata.Name, addresses, zone);
    }

    internal static KubernetesOwned? ToOwned<T>(T owned)
        where T : IKubernetesObject<V1ObjectMeta>
    {
        var metadata = owned.Metadata;
        if (metadata?.Name is null)
        {
            return null;
        }

        var (ownerKind, ownerName) = FirstOwner(metadata);
        return new KubernetesOwned(metadata.NamespaceProperty ?? "", metadata.Name, ownerKind, ownerName);
    }
}
