using System.Runtime.InteropServices;
using NetObserv.Flows;
using NetObserv.Storage.Copy;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Sums a batch of flows in memory by rollup key, per minute and per hour, so each batch upserts
/// each key once. The bucket of a flow is the minute (hour) of its <c>time_end</c>. Reused between
/// batches by one writer; not thread-safe.
/// </summary>
internal sealed class RollupAggregator
{
    public const long MinuteMs = 60_000;
    public const long HourMs = 3_600_000;

    private readonly Dictionary<RollupKey, RollupSums> _minutes = [];
    private readonly Dictionary<RollupKey, RollupSums> _hours = [];

    /// <summary>Sums per one-minute bucket.</summary>
    public IReadOnlyDictionary<RollupKey, RollupSums> Minutes => _minutes;

    /// <summary>Sums per one-hour bucket (filled by <see cref="Complete"/>).</summary>
    public IReadOnlyDictionary<RollupKey, RollupSums> Hours => _hours;

    public void Clear()
    {
        _minutes.Clear();
        _hours.Clear();
    }

    /// <summary>Adds one flow whose <c>time_end</c> is <paramref name="timeEndMs"/> (already clamped).</summary>
    public void Add(FlowRecord record, long timeEndMs)
    {
        var src = record.Src;
        var dst = record.Dst;
        var key = new RollupKey(FlowText.Clean(record.Tenant) ?? FlowRecord.DefaultTenant,
            Floor(timeEndMs, MinuteMs),
            FlowText.Clean(src.Namespace), FlowText.Clean(src.OwnerType), FlowText.Clean(src.OwnerName),
            FlowText.Clean(dst.Namespace), FlowText.Clean(dst.OwnerType), FlowText.Clean(dst.OwnerName),
            record.FlowDirection, FlowText.Clean(record.K8SFlowLayer), FlowText.Clean(record.K8SClusterName));
        ref var sums = ref CollectionsMarshal.GetValueRefOrAddDefault(_minutes, key, out _);
        var factor = record.SamplingFactor;
        sums.Bytes += record.Bytes;
        sums.Packets += record.Packets;
        sums.SampledBytes += record.Bytes * factor;
        sums.SampledPackets += record.Packets * factor;
        sums.Flows++;
    }

    /// <summary>Derives the hourly sums from the minute sums.</summary>
    public void Complete()
    {
        _hours.Clear();
        foreach (var (key, sums) in _minutes)
        {
            ref var hour = ref CollectionsMarshal.GetValueRefOrAddDefault(_hours,
                key.WithBucket(Floor(key.BucketMs, HourMs)), out _);
            hour.Add(sums);
        }
    }

    /// <summary>Rounds down to a multiple of <paramref name="size"/> (also for times before 1970).</summary>
    public static long Floor(long value, long size)
    {
        var r = value % size;
        return r < 0 ? value - r - size : value - r;
    }
}
