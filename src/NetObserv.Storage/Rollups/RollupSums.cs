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
        Bytes = Add(Bytes, other.Bytes);
        Packets = Add(Packets, other.Packets);
        SampledBytes = Add(SampledBytes, other.SampledBytes);
        SampledPackets = Add(SampledPackets, other.SampledPackets);
        Flows += other.Flows;
    }

    /// <summary>
    /// <paramref name="a"/> + <paramref name="b"/>, held at the bounds of bigint (as <see cref="Saturate"/>), without
    /// 128-bit arithmetic: the sum overflowed when it has the other sign than both terms.
    /// </summary>
    public static long Add(long a, long b)
    {
        var sum = unchecked(a + b);
        return ((a ^ sum) & (b ^ sum)) < 0 ? (a < 0 ? long.MinValue : long.MaxValue) : sum;
    }

    /// <summary>
    /// A sum held at the bounds of bigint, as <c>flow_rollup_sum</c> holds merged sums: an absurd counter
    /// saturates its rollup row instead of wrapping around or failing the merge.
    /// </summary>
    public static long Saturate(Int128 sum) => sum > long.MaxValue ? long.MaxValue : sum < long.MinValue ? long.MinValue : (long)sum;
}
