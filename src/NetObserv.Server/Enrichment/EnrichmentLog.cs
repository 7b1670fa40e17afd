namespace NetObserv.Server.Enrichment;

/// <summary>Log events of Kubernetes enrichment (4600-4699).</summary>
internal static partial class EnrichmentLog
{
    [LoggerMessage(EventId = 4601, EventName = "InventoryLoaded", Level = LogLevel.Information,
        Message = "Loaded inventory {Path}: {Nodes} nodes, {Entries} entries ({Addresses} addresses, {Cidrs} CIDR ranges)")]
    public static partial void InventoryLoaded(ILogger logger, string path, int nodes, int entries, int addresses, int cidrs);

    [LoggerMessage(EventId = 4602, EventName = "InventoryInvalid", Level = LogLevel.Error,
        Message = "{Message}. Keeping the inventory loaded before, if any")]
    public static partial void InventoryInvalid(ILogger logger, string message);

    [LoggerMessage(EventId = 4603, EventName = "InventoryMissing", Level = LogLevel.Warning,
        Message = "Inventory file {Path} does not exist; waiting for it")]
    public static partial void InventoryMissing(ILogger logger, string path);

    [LoggerMessage(EventId = 4610, EventName = "KubernetesConfigFailed", Level = LogLevel.Error,
        Message = "Kubernetes enrichment is off: no usable client configuration")]
    public static partial void KubernetesConfigFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 4611, EventName = "KubernetesStarted", Level = LogLevel.Information,
        Message = "Watching Pods, Services, Nodes, ReplicaSets and Jobs at {Server}")]
    public static partial void KubernetesStarted(ILogger logger, string server);

    [LoggerMessage(EventId = 4612, EventName = "KubernetesListed", Level = LogLevel.Debug,
        Message = "Listed {Count} {Kind} at resource version {ResourceVersion}")]
    public static partial void KubernetesListed(ILogger logger, int count, string kind, string? resourceVersion);

    [LoggerMessage(EventId = 4613, EventName = "KubernetesWatchGone", Level = LogLevel.Information,
        Message = "Watch of {Kind} expired (410 Gone); listing again")]
    public static partial void KubernetesWatchGone(ILogger logger, string kind);

    [LoggerMessage(EventId = 4614, EventName = "KubernetesWatchFailed", Level = LogLevel.Warning,
        Message = "List/watch of {Kind} failed; retrying in {DelayMs} ms")]
    public static partial void KubernetesWatchFailed(ILogger logger, string kind, long delayMs, Exception exception);

    [LoggerMessage(EventId = 4615, EventName = "KubernetesWatchEventError", Level = LogLevel.Warning,
        Message = "Watch of {Kind} reported an error: {Error}")]
    public static partial void KubernetesWatchEventError(ILogger logger, string kind, string error);

    [LoggerMessage(EventId = 4616, EventName = "KubernetesIndexPublished", Level = LogLevel.Debug,
        Message = "Enrichment index rebuilt: {Pods} pods, {Nodes} nodes, {Services} services, {Addresses} addresses in {ElapsedMs} ms")]
    public static partial void KubernetesIndexPublished(ILogger logger, int pods, int nodes, int services, int addresses,
        long elapsedMs);

    [LoggerMessage(EventId = 4617, EventName = "KubernetesResync", Level = LogLevel.Debug,
        Message = "Periodic resync: listing {Kind} again")]
    public static partial void KubernetesResync(ILogger logger, string kind);
}
