namespace NetObserv.Storage.Rollups;

/// <summary>The additive columns of a rollup row.</summary>
internal struct RollupSums
{
    public long Bytes;
    public long Packets;
    public long SampledBytes;
    public long SampledPackets;
    public long Flows;

    public void Add(in RollupSums other)
    {
        Bytes = Saturate((Int128)Bytes + other.Bytes);
        Packets = Saturate((Int128)Packets + other.Packets);
        SampledBytes = Saturate((Int128)SampledBytes + other.SampledBytes);
        SampledPackets = Saturate((Int128)SampledPackets + other.SampledPackets);
        Flows += other.Flows;
    }

    /// <summary>
    /// A sum held at the bounds of bigint, as <c>flow_rollup_sum</c> holds merged sums: an absurd counter
    /// saturates its rollup row instead of wrapping around or failing the merge.
    /// </summary>
    public static long Saturate(Int128 sum) => sum > long.MaxValue ? long.MaxValue : sum < long.MinValue ? long.MinValue : (long)sum;
}
