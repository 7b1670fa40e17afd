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
        Bytes += other.Bytes;
        Packets += other.Packets;
        SampledBytes += other.SampledBytes;
        SampledPackets += other.SampledPackets;
        Flows += other.Flows;
    }
}
