using System.Collections.Concurrent;
using NetObserv.Flows;
using NetObserv.Storage.Copy;
using NetObserv.Storage.Rollups;
using Npgsql;
using NpgsqlTypes;

namespace NetObserv.Storage.Dictionaries;

/// <summary>
/// The ids of <c>flow_endpoints</c>, <c>flow_contexts</c> and <c>flow_rollup_keys</c> rows, cached in the process and shared by
/// every writer loop. Keys not seen yet are added in one round trip (one <c>flow_endpoint_id</c>,
/// <c>flow_context_id</c> or <c>flow_rollup_key_id</c> call per new key, batched), outside the batch's transaction: an id in the
/// cache always names a committed row. Each cache is bounded; past the bound it starts again empty
/// and fills from the database. Endpoint and context ids are also kept by the identity of the strings
/// they were found for (<see cref="IdentityIds"/>), which the ingest door reads too (<see cref="Look"/>).
/// </summary>
/// <param name="maxEntries">Entries kept per dictionary before the cache starts again.</param>
/// <param name="identitySlots">Slots of the cache by identity (<see cref="IdentityIds"/>) per kind of key.</param>
internal sealed class FlowDictionaries(int maxEntries = FlowDictionaries.DefaultMaxEntries,
    int identitySlots = IdentityIds.DefaultSlots)
{
    /// <summary>Entries kept per dictionary before the cache starts again.</summary>
    public const int DefaultMaxEntries = 200_000;

    private readonly ConcurrentDictionary<EndpointKey, int> _endpoints = new();
    private readonly ConcurrentDictionary<ContextKey, int> _contexts = new();
    private readonly ConcurrentDictionary<RollupKey, int> _rollupKeys = new();

    // The rollup key is a function of a flow's endpoint and context rows: its id by theirs saves building
    // and hashing the key's ten strings for every (minute, ids) of every batch.
    private readonly ConcurrentDictionary<(int Src, int Dst, int Context), int> _rollupKeysByIds = new();

    private readonly IdentityIds _identities = new(identitySlots);

    // Raised by Clear: what IdentityIds and the records' KeyIds hold from before no longer counts. Never 0,
    // which marks a record whose keys were not looked up.
    private long _generation = 1;

    /// <summary>Cached endpoint ids.</summary>
    public int EndpointCount => _endpoints.Count;

    /// <summary>Cached context ids.</summary>
    public int ContextCount => _contexts.Count;

    /// <summary>
    /// Sets <see cref="FlowRecord.KeyIds"/> of each record whose endpoints and context are all in the cache
    /// by identity, so the writer does not read them again. Called by the ingest door once a batch will not
    /// change any more, while its records are still in the processor's caches: the writer gets them much later.
    /// </summary>
    public void Look(IReadOnlyList<FlowRecord> records)
    {
        var generation = Volatile.Read(ref _generation);
        var known = _identities;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            record.KeyIds = known.TryGetEndpoint(record.Src, record.SrcMac, generation, out var src)
                && known.TryGetEndpoint(record.Dst, record.DstMac, generation, out var dst)
                && known.TryGetContext(record, generation, out var context)
                    ? new FlowKeyIds(src, dst, context, generation)
                    : default;
        }
    }

    /// <summary>
    /// Fills <paramref name="ids"/> with the source endpoint, destination endpoint and context ids of
    /// records <paramref name="start"/> to <paramref name="start"/> + <paramref name="count"/> - 1.
    /// </summary>
    public async Task ResolveAsync(NpgsqlConnection connection, List<FlowRecord> records, int start, int count,
        RowIds ids, CancellationToken cancellationToken)
    {
        ids.EnsureCapacity(count);
        var generation = Volatile.Read(ref _generation);
        var known = _identities;
        var (missingEndpoints, missingContexts) = FindKnown(records, start, count, ids, generation);
        if (missingEndpoints is null && missingContexts is null)
        {
            return;
        }

        // Keys in one order in every writer loop: two batches adding the same new keys wait for each other
        // in turn instead of each holding one the other needs.
        var endpointKeys = missingEndpoints?.Keys.OrderBy(k => k.ToString(), StringComparer.Ordinal).ToArray() ?? [];
        var contextKeys = missingContexts?.Keys.OrderBy(k => k.ToString(), StringComparer.Ordinal).ToArray() ?? [];
        var added = await AddKeysAsync(connection,
            [.. endpointKeys.Select(EndpointCommand), .. contextKeys.Select(ContextCommand)], cancellationToken)
            .ConfigureAwait(false);
        var endpointIds = added[..endpointKeys.Length];
        var contextIds = added[endpointKeys.Length..];

        for (var k = 0; k < endpointKeys.Length; k++)
        {
            var slots = missingEndpoints![endpointKeys[k]];
            foreach (var slot in slots)
            {
                if (slot >= 0)
                {
                    ids.Src[slot] = endpointIds[k];
                }
                else
                {
                    ids.Dst[~slot] = endpointIds[k];
                }
            }

            // Remembered by identity as the first record carrying it has it (once per key, not per record).
            var first = records[start + (slots[0] >= 0 ? slots[0] : ~slots[0])];
            known.SetEndpoint(slots[0] >= 0 ? first.Src : first.Dst, slots[0] >= 0 ? first.SrcMac : first.DstMac,
                endpointIds[k], generation);

            Remember(_endpoints, endpointKeys[k], endpointIds[k]);
        }

        for (var k = 0; k < contextKeys.Length; k++)
        {
            var slots = missingContexts![contextKeys[k]];
            foreach (var slot in slots)
            {
                ids.Context[slot] = contextIds[k];
            }

            known.SetContext(records[start + slots[0]], contextIds[k], generation);

            Remember(_contexts, contextKeys[k], contextIds[k]);
        }
    }

    /// <summary>
    /// The synchronous part of <see cref="ResolveAsync"/> (kept out of the async method, whose locals live on
    /// the heap): fills the ids of known keys and returns the slots of the keys still to add.
    /// </summary>
    private (Dictionary<EndpointKey, List<int>>? Endpoints, Dictionary<ContextKey, List<int>>? Contexts) FindKnown(
        List<FlowRecord> records, int start, int count, RowIds ids, long generation)
    {
        var known = _identities;
        Dictionary<EndpointKey, List<int>>? missingEndpoints = null;
        Dictionary<ContextKey, List<int>>? missingContexts = null;
        // Records the ingest door looked up (Look) carry their ids; then keys whose strings were seen before are
        // found by reference (IdentityIds); then neighbouring records mostly share their keys (one exporter, one
        // node): the last key found is compared before the shared cache is hashed.
        var recentEndpoint = new Recent<EndpointKey>();
        var recentContext = new Recent<ContextKey>();
        for (var i = 0; i < count; i++)
        {
            var record = records[start + i];
            var looked = record.KeyIds;
            if (looked.Generation == generation)
            {
                (ids.Src[i], ids.Dst[i], ids.Context[i]) = (looked.Src, looked.Dst, looked.Context);
                continue;
            }

            if (TryEndpoint(known, generation, ref recentEndpoint, record.Src, record.SrcMac, out var id, out var src))
            {
                ids.Src[i] = id;
            }
            else
            {
                Pending(ref missingEndpoints, src, i);
            }

            if (TryEndpoint(known, generation, ref recentEndpoint, record.Dst, record.DstMac, out id, out var dst))
            {
                ids.Dst[i] = id;
            }
            else
            {
                // Negative slots mark a destination: one list serves both sides of a key.
                Pending(ref missingEndpoints, dst, ~i);
            }

            if (known.TryGetContext(record, generation, out id))
            {
                ids.Context[i] = id;
            }
            else
            {
                var context = new ContextKey(record);
                if (recentContext.TryGet(context, out id) || _contexts.TryGetValue(context, out id))
                {
                    ids.Context[i] = id;
                    recentContext.Set(context, id);
                    known.SetContext(record, id, generation);
                }
                else
                {
                    Pending(ref missingContexts, context, i);
                }
            }
        }

        return (missingEndpoints, missingContexts);
    }

    /// <summary>
    /// The id of one side's endpoint if the identity table or the cache by text knows it; else false and
    /// the key to add.
    /// </summary>
    private bool TryEndpoint(IdentityIds known, long generation, ref Recent<EndpointKey> recent,
        KubernetesMetadata side, ulong? mac, out int id, out EndpointKey key)
    {
        key = default;
        if (known.TryGetEndpoint(side, mac, generation, out id))
        {
            return true;
        }

        key = EndpointKey.Of(side, mac);
        if (recent.TryGet(key, out id) || _endpoints.TryGetValue(key, out id))
        {
            recent.Set(key, id);
            known.SetEndpoint(side, mac, id, generation);
            return true;
        }

        return false;
    }

    /// <summary>
    /// Fills <paramref name="into"/> with the <c>flow_rollup_keys</c> id of the dimensions (the key with
    /// bucket 0) of every key in <paramref name="keys"/>, adding the new ones in one round trip.
    /// </summary>
    public async Task ResolveRollupKeysAsync(NpgsqlConnection connection, IEnumerable<RollupKey> keys,
        Dictionary<RollupKey, int> into, CancellationToken cancellationToken)
    {
        into.Clear();
        List<RollupKey>? missing = null;
        foreach (var key in keys)
        {
            var dimensions = key.WithBucket(0);
            if (into.ContainsKey(dimensions))
            {
                continue;
            }

            if (_rollupKeys.TryGetValue(dimensions, out var id))
            {
                into[dimensions] = id;
            }
            else
            {
                into[dimensions] = 0;
                (missing ??= []).Add(dimensions);
            }
        }

        if (missing is null)
        {
            return;
        }

        missing.Sort((a, b) => string.CompareOrdinal(a.ToString(), b.ToString()));
        var ids = await AddKeysAsync(connection, [.. missing.Select(RollupKeyCommand)], cancellationToken)
            .ConfigureAwait(false);
        for (var k = 0; k < ids.Length; k++)
        {
            into[missing[k]] = ids[k];
            Remember(_rollupKeys, missing[k], ids[k]);
        }
    }

    /// <summary>The <c>flow_rollup_keys</c> id of flows with these endpoint and context ids, if cached.</summary>
    public bool TryGetRollupKey(int src, int dst, int context, out int id) =>
        _rollupKeysByIds.TryGetValue((src, dst, context), out id);

    /// <summary>Caches the rollup key id of flows with these endpoint and context ids.</summary>
    public void RememberRollupKey(int src, int dst, int context, int id) =>
        Remember(_rollupKeysByIds, (src, dst, context), id);

    /// <summary>
    /// Runs the id functions of new keys in one round trip and returns their ids in order. The batch runs in
    /// one implicit transaction: a key the database refuses rolls back the keys before it, so callers use and
    /// cache the ids only once this has returned.
    /// </summary>
    private static async Task<int[]> AddKeysAsync(NpgsqlConnection connection, List<NpgsqlBatchCommand> commands,
        CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection);
        foreach (var command in commands)
        {
            batch.BatchCommands.Add(command);
        }

        var ids = new int[commands.Count];
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        for (var k = 0; k < ids.Length; k++)
        {
            ids[k] = await ReadIdAsync(reader, cancellationToken).ConfigureAwait(false);
        }

        return ids;
    }

    private static NpgsqlBatchCommand RollupKeyCommand(RollupKey k)
    {
        var command = new NpgsqlBatchCommand("SELECT flow_rollup_key_id($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        var p = command.Parameters;
        Text(p, k.Tenant);
        Text(p, k.SrcNamespace);
        Text(p, k.SrcOwnerType);
        Text(p, k.SrcOwnerName);
        Text(p, k.DstNamespace);
        Text(p, k.DstOwnerType);
        Text(p, k.DstOwnerName);
        Int(p, k.FlowDirection);
        Text(p, k.FlowLayer);
        Text(p, k.ClusterName);
        return command;
    }

    /// <summary>Forgets every cached id (after a database change that may have renumbered them).</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _endpoints.Clear();
        _contexts.Clear();
        _rollupKeys.Clear();
        _rollupKeysByIds.Clear();
    }

    private void Remember<TKey>(ConcurrentDictionary<TKey, int> cache, TKey key, int id)
        where TKey : notnull
    {
        if (cache.Count >= maxEntries)
        {
            cache.Clear();
        }

        cache[key] = id;
    }

    private static void Pending<TKey>(ref Dictionary<TKey, List<int>>? missing, TKey key, int slot)
        where TKey : notnull
    {
        missing ??= [];
        if (!missing.TryGetValue(key, out var slots))
        {
            slots = [];
            missing[key] = slots;
        }

        slots.Add(slot);
    }

    private static async Task<int> ReadIdAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException("a dictionary upsert returned no id");
        }

        var id = reader.GetInt32(0);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        return id;
    }

    private static NpgsqlBatchCommand EndpointCommand(EndpointKey k)
    {
        var command = new NpgsqlBatchCommand("SELECT flow_endpoint_id($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        var p = command.Parameters;
        Text(p, k.Type);
        Text(p, k.Namespace);
        Text(p, k.Name);
        Text(p, k.OwnerType);
        Text(p, k.OwnerName);
        p.Add(new NpgsqlParameter { Value = (object?)k.HostIP ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Inet });
        Text(p, k.HostName);
        Text(p, k.Zone);
        Text(p, k.SubnetLabel);
        Mac(p, k.Mac);
        return command;
    }

    private static NpgsqlBatchCommand ContextCommand(ContextKey k)
    {
        var command = new NpgsqlBatchCommand(
            "SELECT flow_context_id($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        var p = command.Parameters;
        Text(p, k.Tenant);
        Int(p, k.FlowDirection);
        p.Add(new NpgsqlParameter { Value = (object?)k.Interfaces ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
        p.Add(new NpgsqlParameter { Value = (object?)k.IfDirections ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer });
        p.Add(new NpgsqlParameter { Value = k.Duplicate is { } d ? d : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Boolean });
        p.Add(new NpgsqlParameter { Value = (object?)k.AgentIP ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Inet });
        // Since migration 0013 the MAC addresses are the endpoints': a new context has none.
        Mac(p, null);
        Mac(p, null);
        Int(p, k.Etype);
        Int(p, k.Sampling);
        Text(p, k.FlowLayer);
        Text(p, k.ClusterName);
        Text(p, k.RecordType);
        return command;
    }

    private static void Text(NpgsqlParameterCollection p, string? value) =>
        p.Add(new NpgsqlParameter { Value = (object?)value ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });

    private static void Int(NpgsqlParameterCollection p, int? value) =>
        p.Add(new NpgsqlParameter { Value = value is { } v ? v : DBNull.Value, NpgsqlDbType = NpgsqlDbType.Integer });

    private static void Mac(NpgsqlParameterCollection p, ulong? value) =>
        p.Add(new NpgsqlParameter
        {
            Value = value is { } v ? MacAddressCache.ToPhysicalAddress(v) : DBNull.Value,
            NpgsqlDbType = NpgsqlDbType.MacAddr,
        });
}

/// <summary>The last key resolved and its id.</summary>
internal struct Recent<TKey>
    where TKey : struct, IEquatable<TKey>
{
    private TKey _key;
    private int _id;
    private bool _set;

    public readonly bool TryGet(in TKey key, out int id)
    {
        id = _id;
        return _set && _key.Equals(key);
    }

    public void Set(in TKey key, int id)
    {
        _key = key;
        _id = id;
        _set = true;
    }
}

/// <summary>The dictionary ids of one batch's rows, reused from batch to batch.</summary>
internal sealed class RowIds
{
    public int[] Src { get; private set; } = [];
    public int[] Dst { get; private set; } = [];
    public int[] Context { get; private set; } = [];

    public void EnsureCapacity(int count)
    {
        if (Src.Length < count)
        {
            Src = new int[count];
            Dst = new int[count];
            Context = new int[count];
        }
    }
}
