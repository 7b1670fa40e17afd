namespace NetObserv.Storage.Rollups;

/// <summary>
/// The key of a rollup row: tenant, bucket start (Unix epoch milliseconds), source and destination
/// namespace and owner, direction, layer and cluster. The key with bucket 0 (its dimensions) is a row
/// of <c>flow_rollup_keys</c>. Strings compare ordinally, as PostgreSQL's deterministic collations do.
/// </summary>
internal readonly record struct RollupKey(
    string Tenant,
    long BucketMs,
    string? SrcNamespace,
    string? SrcOwnerType,
    string? SrcOwnerName,
    string? DstNamespace,
    string? DstOwnerType,
    string? DstOwnerName,
    int? FlowDirection,
    string? FlowLayer,
    string? ClusterName)
{
    /// <summary>The same key in a coarser bucket.</summary>
    public RollupKey WithBucket(long bucketMs) => this with { BucketMs = bucketMs };
}
