namespace NetObserv.Storage.Rollups;

/// <summary>
/// The key of a rollup row: tenant, bucket start (Unix epoch milliseconds), source and destination
/// namespace and owner, direction, layer and cluster (the unique index of <c>flow_rollup_1m</c> and
/// <c>flow_rollup_1h</c>). Strings compare ordinally, as PostgreSQL's deterministic collations do.
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

    /// <summary>A total order (bucket first), so concurrent writers lock rollup rows in the same order.</summary>
    public static int Compare(RollupKey a, RollupKey b)
    {
        var c = a.BucketMs.CompareTo(b.BucketMs);
        if (c != 0)
        {
            return c;
        }

        c = string.CompareOrdinal(a.Tenant, b.Tenant);
        c = c != 0 ? c : string.CompareOrdinal(a.SrcNamespace, b.SrcNamespace);
        c = c != 0 ? c : string.CompareOrdinal(a.DstNamespace, b.DstNamespace);
        c = c != 0 ? c : string.CompareOrdinal(a.SrcOwnerName, b.SrcOwnerName);
        c = c != 0 ? c : string.CompareOrdinal(a.DstOwnerName, b.DstOwnerName);
        c = c != 0 ? c : string.CompareOrdinal(a.SrcOwnerType, b.SrcOwnerType);
        c = c != 0 ? c : string.CompareOrdinal(a.DstOwnerType, b.DstOwnerType);
        c = c != 0 ? c : Nullable.Compare(a.FlowDirection, b.FlowDirection);
        c = c != 0 ? c : string.CompareOrdinal(a.FlowLayer, b.FlowLayer);
        return c != 0 ? c : string.CompareOrdinal(a.ClusterName, b.ClusterName);
    }
}
