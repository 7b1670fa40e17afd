using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using NetObserv.Flows.Pipeline;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>
/// A cached answer: the bytes <see cref="LokiResponseWriter.WriteResult"/> wrote (everything before the
/// statistics) and the counts the statistics are computed from.
/// </summary>
internal sealed record CachedAnswer(byte[] Result, long RowsProcessed, long Returned);

/// <summary>
/// Answers of queries whose range ended at least <see cref="QueryOptions.CacheMinAge"/> ago, keyed by
/// tenants, the normalised query text and the exact range, step, limit and direction, within a byte
/// budget (<see cref="QueryOptions.CacheMaxBytes"/>): an entry's size is its serialized answer plus its
/// key, and answers larger than 1/<see cref="EntryShare"/> of the budget are not kept. The current size
/// is the gauge <c>netobserv.query.cache.bytes</c>. Late data never hides behind an entry: an entry is
/// dropped when the ingest (<see cref="IngestWatermark"/>) has accepted, since the entry was computed less
/// <see cref="QueryOptions.CacheIngestDelay"/>, a flow ending within the entry's range (a backfill, a
/// catching-up agent); entries live at most <see cref="QueryOptions.CacheDuration"/> from when they were
/// computed, however often they are read.
/// </summary>
internal sealed class QueryResultCache : IDisposable
{
    /// <summary>An entry may take at most this fraction (1/n) of the budget.</summary>
    public const int EntryShare = 16;

    private readonly MemoryCache _cache;
    private readonly QueryOptions _options;
    private readonly TimeProvider _time;
    private readonly IngestWatermark? _watermark;

    public QueryResultCache(IOptions<QueryOptions> options, TimeProvider time, IMeterFactory meterFactory,
        FlowChannel? ingest = null)
    {
        _options = options.Value;
        _time = time;
        _watermark = ingest?.Watermark;
        _cache = new MemoryCache(new MemoryCacheOptions
        {
            SizeLimit = Math.Max(_options.CacheMaxBytes, 1),
            TrackStatistics = true,
        });
        meterFactory.Create(new MeterOptions(QueryMetrics.MeterName)).CreateObservableGauge("netobserv.query.cache.bytes",
            () => Bytes, "By", "Bytes of the answers in the query result cache (at most Query:CacheMaxBytes)");
    }

    /// <summary>The largest entry kept: 1/<see cref="EntryShare"/> of the budget.</summary>
    public long MaxEntryBytes => _options.CacheMaxBytes / EntryShare;

    /// <summary>The size of the entries held, as the cache counts it against its budget.</summary>
    public long Bytes => _cache.GetCurrentStatistics()?.CurrentEstimatedSize ?? 0;

    public static string Key(QueryRequest request, string normalisedQuery) =>
        string.Join('\u0001', request.Access.Key, normalisedQuery, request.StartNs, request.EndNs,
            request.StepMs, request.Limit, request.Forward, request.Instant);

    /// <summary>True when the cache is on and the range is closed long enough ago for its answer to be final.</summary>
    public bool IsCacheable(QueryRequest request)
    {
        var nowNs = (_time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        return _options.CacheMaxBytes > 0 && request.EndNs <= nowNs - (_options.CacheMinAge.Ticks * 100);
    }

    /// <summary>When an answer starts being computed: the time to give <see cref="Set"/>.</summary>
    public long Now => _watermark?.NowMs ?? _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Finds an answer, unless flows accepted since it was computed fall in its range (then it is dropped).</summary>
    public bool TryGet(string key, out CachedAnswer answer)
    {
        answer = null!;
        if (!_cache.TryGetValue(key, out Entry? entry) || entry is null)
        {
            return false;
        }

        if (_watermark is not null
            && _watermark.EarliestEndAcceptedSince(entry.ComputedAtMs - (long)_options.CacheIngestDelay.TotalMilliseconds)
                <= entry.RangeEndMs)
        {
            _cache.Remove(key);
            return false;
        }

        answer = entry.Answer;
        return true;
    }

    /// <summary>
    /// Keeps <paramref name="answer"/>, computed from <paramref name="computedAtMs"/> (<see cref="Now"/>) for a
    /// range ending at <paramref name="request"/>'s end, unless it is larger than <see cref="MaxEntryBytes"/>.
    /// </summary>
    public void Set(string key, CachedAnswer answer, QueryRequest request, long computedAtMs)
    {
        var size = answer.Result.LongLength + (key.Length * sizeof(char));
        if (size > MaxEntryBytes)
        {
            return;
        }

        _cache.Set(key, new Entry(answer, computedAtMs, request.EndNs / 1_000_000),
            new MemoryCacheEntryOptions { Size = size, AbsoluteExpirationRelativeToNow = _options.CacheDuration });
    }

    private sealed record Entry(CachedAnswer Answer, long ComputedAtMs, long RangeEndMs);

    public void Dispose() => _cache.Dispose();
}
