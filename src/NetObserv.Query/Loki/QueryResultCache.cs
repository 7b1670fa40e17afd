using System.Diagnostics.Metrics;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
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
/// is the gauge <c>netobserv.query.cache.bytes</c>.
/// </summary>
internal sealed class QueryResultCache : IDisposable
{
    /// <summary>An entry may take at most this fraction (1/n) of the budget.</summary>
    public const int EntryShare = 16;

    private readonly MemoryCache _cache;
    private readonly QueryOptions _options;
    private readonly TimeProvider _time;

    public QueryResultCache(IOptions<QueryOptions> options, TimeProvider time, IMeterFactory meterFactory)
    {
        _options = options.Value;
        _time = time;
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

    public bool TryGet(string key, out CachedAnswer answer) => _cache.TryGetValue(key, out answer!);

    /// <summary>Keeps <paramref name="answer"/> unless it is larger than <see cref="MaxEntryBytes"/>.</summary>
    public void Set(string key, CachedAnswer answer)
    {
        var size = answer.Result.LongLength + (key.Length * sizeof(char));
        if (size > MaxEntryBytes)
        {
            return;
        }

        _cache.Set(key, answer, new MemoryCacheEntryOptions { Size = size, SlidingExpiration = _options.CacheDuration });
    }

    public void Dispose() => _cache.Dispose();
}
