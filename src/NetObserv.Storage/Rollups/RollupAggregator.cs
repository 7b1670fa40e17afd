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
        foreach (var level in _levels)
        {
            level.Clear();
        }
    }

    /// <summary>Adds one flow whose <c>time_end</c> is <paramref name="timeEndMs"/> (already clamped).</summary>
    public void Add(FlowRecord record, long timeEndMs)
    {
        var src = record.Src;
        var dst = record.Dst;
        var key = new RollupKey(FlowText.Clean(record.Tenant) ?? FlowRecord.DefaultTenant,
            Floor(timeEndMs, RollupLevel.All[0].WidthMs),
            FlowText.Clean(src.Namespace), FlowText.Clean(src.OwnerType), FlowText.Clean(src.OwnerName),
            FlowText.Clean(dst.Namespace), FlowText.Clean(dst.OwnerType), FlowText.Clean(dst.OwnerName),
            record.FlowDirection, FlowText.Clean(record.K8SFlowLayer), FlowText.Clean(record.K8SClusterName));
        ref var sums = ref CollectionsMarshal.GetValueRefOrAddDefault(_levels[0], key, out _);
        var factor = record.SamplingFactor;
        sums.Bytes = RollupSums.Saturate((Int128)sums.Bytes + record.Bytes);
        sums.Packets = RollupSums.Saturate((Int128)sums.Packets + record.Packets);
        sums.SampledBytes = RollupSums.Saturate(sums.SampledBytes + ((Int128)record.Bytes * factor));
        sums.SampledPackets = RollupSums.Saturate(sums.SampledPackets + ((Int128)record.Packets * factor));
        sums.Flows++;
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
}
