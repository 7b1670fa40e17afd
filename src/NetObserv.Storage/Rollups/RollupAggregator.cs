using System.Runtime.InteropServices;
using NetObserv.Flows;
using NetObserv.Storage.Copy;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Sums a batch of flows in memory by rollup key, for every <see cref="RollupLevel"/>, so each batch
/// upserts each key once per level. The bucket of a flow is the minute (5 minutes, 10 minutes, hour)
/// of its <c>time_end</c>. Reused between batches by one writer; not thread-safe.
/// </summary>
internal sealed class RollupAggregator
{
    private readonly Dictionary<RollupKey, RollupSums>[] _levels;
    private readonly Dictionary<IdKey, Pending> _byIds = [];

    public RollupAggregator()
    {
        _levels = new Dictionary<RollupKey, RollupSums>[RollupLevel.All.Count];
        for (var i = 0; i < _levels.Length; i++)
        {
            _levels[i] = [];
        }
    }

    /// <summary>Sums per bucket of <c>RollupLevel.All[level]</c> (levels after the first are filled by <see cref="Complete"/>).</summary>
    public IReadOnlyDictionary<RollupKey, RollupSums> Level(int level) => _levels[level];

    public void Clear()
    {
        _byIds.Clear();
        foreach (var level in _levels)
        {
            level.Clear();
        }
    }

    /// <summary>
    /// Adds one flow whose <c>time_end</c> is <paramref name="timeEndMs"/> (already clamped) and whose
    /// dictionary ids are given. The rollup key is a function of the three ids (the source and destination
    /// endpoints' namespace and owner, the context's tenant, direction, layer and cluster), so flows are
    /// summed by ids and bucket here, and <see cref="Fold"/> builds each key once per distinct ids.
    /// </summary>
    public void Add(FlowRecord record, long timeEndMs, int srcId, int dstId, int contextId)
    {
        ref var pending = ref CollectionsMarshal.GetValueRefOrAddDefault(_byIds,
            new IdKey(Floor(timeEndMs, RollupLevel.All[0].WidthMs), srcId, dstId, contextId), out var exists);
        if (!exists)
        {
            pending.First = record;
        }

        var factor = record.SamplingFactor;
        ref var sums = ref pending.Sums;
        sums.Bytes = RollupSums.Saturate((Int128)sums.Bytes + record.Bytes);
        sums.Packets = RollupSums.Saturate((Int128)sums.Packets + record.Packets);
        sums.SampledBytes = RollupSums.Saturate(sums.SampledBytes + ((Int128)record.Bytes * factor));
        sums.SampledPackets = RollupSums.Saturate(sums.SampledPackets + ((Int128)record.Packets * factor));
        sums.Flows++;
    }

    /// <summary>Moves what <see cref="Add"/> summed into level 0, keyed by the rollup key of each distinct ids.</summary>
    public void Fold()
    {
        var level = _levels[0];
        foreach (var (ids, pending) in _byIds)
        {
            ref var sums = ref CollectionsMarshal.GetValueRefOrAddDefault(level, KeyOf(pending.First!, ids.BucketMs), out _);
            sums.Add(pending.Sums);
        }

        _byIds.Clear();
    }

    private static RollupKey KeyOf(FlowRecord record, long bucketMs)
    {
        var src = record.Src;
        var dst = record.Dst;
        return new RollupKey(FlowText.Clean(record.Tenant) ?? FlowRecord.DefaultTenant, bucketMs,
            FlowText.Clean(src.Namespace), FlowText.Clean(src.OwnerType), FlowText.Clean(src.OwnerName),
            FlowText.Clean(dst.Namespace), FlowText.Clean(dst.OwnerType), FlowText.Clean(dst.OwnerName),
            record.FlowDirection, FlowText.Clean(record.K8SFlowLayer), FlowText.Clean(record.K8SClusterName));
    }

    /// <summary>Derives each coarser level's sums from the level below it.</summary>
    public void Complete()
    {
        for (var i = 1; i < _levels.Length; i++)
        {
            var width = RollupLevel.All[i].WidthMs;
            var target = _levels[i];
            target.Clear();
            foreach (var (key, sums) in _levels[i - 1])
            {
                ref var coarse = ref CollectionsMarshal.GetValueRefOrAddDefault(target,
                    key.WithBucket(Floor(key.BucketMs, width)), out _);
                coarse.Add(sums);
            }
        }
    }

    /// <summary>Rounds down to a multiple of <paramref name="size"/> (also for times before 1970).</summary>
    public static long Floor(long value, long size)
    {
        var r = value % size;
        return r < 0 ? value - r - size : value - r;
    }

    private readonly record struct IdKey(long BucketMs, int Src, int Dst, int Context);

    private struct Pending
    {
        public RollupSums Sums;
        public FlowRecord? First;
    }
}
