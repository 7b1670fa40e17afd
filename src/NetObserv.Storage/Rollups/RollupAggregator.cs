using System.Runtime.InteropServices;
using NetObserv.Flows;
using NetObserv.Storage.Copy;
using NetObserv.Storage.Dictionaries;

namespace NetObserv.Storage.Rollups;

/// <summary>
/// Sums a batch of flows in memory per minute and <c>flow_rollup_keys</c> id, so each batch appends each
/// (minute, key) once to the rollup deltas. The bucket of a flow is the minute of its <c>time_end</c>.
/// Reused between batches by one writer; not thread-safe.
/// </summary>
internal sealed class RollupAggregator
{
    private static readonly long s_minuteMs = RollupLevel.Minute.WidthMs;

    private readonly Dictionary<IdKey, Pending> _byIds = [];
    private readonly Dictionary<RollupDelta, RollupSums> _deltas = [];
    private readonly List<(IdKey Ids, RollupSums Sums, RollupKey Dimensions)> _unknown = [];

    /// <summary>The batch's sums per minute and rollup key id, once <see cref="FoldKnown"/> (and <see cref="FoldNew"/>) ran.</summary>
    public IReadOnlyDictionary<RollupDelta, RollupSums> Deltas => _deltas;

    public void Clear()
    {
        _byIds.Clear();
        _deltas.Clear();
        _unknown.Clear();
    }

    /// <summary>
    /// Adds one flow whose <c>time_end</c> is <paramref name="timeEndMs"/> (already clamped) and whose
    /// dictionary ids are given. The rollup key is a function of the three ids (the source and destination
    /// endpoints' namespace and owner, the context's tenant, direction, layer and cluster), so flows are
    /// summed by ids and minute here, and a key is built only for ids whose key id is not cached yet.
    /// </summary>
    public void Add(FlowRecord record, long timeEndMs, int srcId, int dstId, int contextId)
    {
        ref var pending = ref CollectionsMarshal.GetValueRefOrAddDefault(_byIds,
            new IdKey(Floor(timeEndMs, s_minuteMs), srcId, dstId, contextId), out var exists);
        if (!exists)
        {
            pending.First = record;
        }

        var factor = record.SamplingFactor;
        ref var sums = ref pending.Sums;
        sums.Bytes = RollupSums.Add(sums.Bytes, record.Bytes);
        sums.Packets = RollupSums.Add(sums.Packets, record.Packets);
        if (factor == 1)
        {
            sums.SampledBytes = RollupSums.Add(sums.SampledBytes, record.Bytes);
            sums.SampledPackets = RollupSums.Add(sums.SampledPackets, record.Packets);
        }
        else
        {
            sums.SampledBytes = RollupSums.Saturate(sums.SampledBytes + ((Int128)record.Bytes * factor));
            sums.SampledPackets = RollupSums.Saturate(sums.SampledPackets + ((Int128)record.Packets * factor));
        }

        sums.Flows++;
    }

    /// <summary>
    /// Moves what <see cref="Add"/> summed into <see cref="Deltas"/> for the ids whose rollup key id
    /// <paramref name="dictionaries"/> has cached, and returns the dimensions (rollup keys with bucket 0)
    /// of the others, for <see cref="FlowDictionaries.ResolveRollupKeysAsync"/> and then <see cref="FoldNew"/>.
    /// </summary>
    public List<RollupKey> FoldKnown(FlowDictionaries dictionaries)
    {
        var missing = new List<RollupKey>();
        foreach (var (ids, pending) in _byIds)
        {
            if (dictionaries.TryGetRollupKey(ids.Src, ids.Dst, ids.Context, out var keyId))
            {
                AddDelta(ids.BucketMs, keyId, pending.Sums);
            }
            else
            {
                var dimensions = KeyOf(pending.First!);
                _unknown.Add((ids, pending.Sums, dimensions));
                missing.Add(dimensions);
            }
        }

        _byIds.Clear();
        return missing;
    }

    /// <summary>
    /// Moves the sums <see cref="FoldKnown"/> left into <see cref="Deltas"/>, with the key ids
    /// <paramref name="keyIds"/> holds for their dimensions, and caches those ids by endpoint and context ids.
    /// </summary>
    public void FoldNew(IReadOnlyDictionary<RollupKey, int> keyIds, FlowDictionaries dictionaries)
    {
        foreach (var (ids, sums, dimensions) in _unknown)
        {
            var keyId = keyIds[dimensions];
            AddDelta(ids.BucketMs, keyId, sums);
            dictionaries.RememberRollupKey(ids.Src, ids.Dst, ids.Context, keyId);
        }

        _unknown.Clear();
    }

    private void AddDelta(long bucketMs, int keyId, in RollupSums sums) =>
        CollectionsMarshal.GetValueRefOrAddDefault(_deltas, new RollupDelta(bucketMs, keyId), out _).Add(sums);

    private static RollupKey KeyOf(FlowRecord record)
    {
        var src = record.Src;
        var dst = record.Dst;
        return new RollupKey(FlowText.Clean(record.Tenant) ?? FlowRecord.DefaultTenant, 0,
            FlowText.Clean(src.Namespace), FlowText.Clean(src.OwnerType), FlowText.Clean(src.OwnerName),
            FlowText.Clean(dst.Namespace), FlowText.Clean(dst.OwnerType), FlowText.Clean(dst.OwnerName),
            record.FlowDirection, FlowText.Clean(record.K8SFlowLayer), FlowText.Clean(record.K8SClusterName));
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

/// <summary>A row of <c>flow_rollup_1m_delta</c>: the minute (Unix epoch milliseconds) and the rollup key id.</summary>
internal readonly record struct RollupDelta(long BucketMs, int Key);
