using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>
/// Results of queries whose range ended at least <see cref="QueryOptions.CacheMinAge"/> ago, keyed by
/// tenants, the normalised query text and the exact range, step, limit and direction.
/// </summary>
internal sealed class QueryResultCache : IDisposable
{
    private readonly MemoryCache _cache;
    private readonly QueryOptions _options;
    private readonly TimeProvider _time;

    public QueryResultCache(IOptions<QueryOptions> options, TimeProvider time)
    {
        _options = options.Value;
        _time = time;
        _cache = new MemoryCache(new MemoryCacheOptions { SizeLimit = Math.Max(_options.CacheEntries, 1) });
    }

    public static string Key(QueryRequest request, string normalisedQuery) =>
        string.Join('\u0001', string.Join('|', request.Tenants), normalisedQuery, request.StartNs, request.EndNs,
            request.StepMs, request.Limit, request.Forward, request.Instant);

    /// <summary>True when the range is closed long enough ago for its result to be final.</summary>
    public bool IsCacheable(QueryRequest request)
    {
        var nowNs = (_time.GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * 100;
        return _options.CacheEntries > 0 && request.EndNs <= nowNs - (_options.CacheMinAge.Ticks * 100);
    }

    public bool TryGet(string key, out QueryResult result) => _cache.TryGetValue(key, out result!);

    public void Set(string key, QueryResult result) =>
        _cache.Set(key, result, new MemoryCacheEntryOptions { Size = 1, SlidingExpiration = _options.CacheDuration });

    public void Dispose() => _cache.Dispose();
}
