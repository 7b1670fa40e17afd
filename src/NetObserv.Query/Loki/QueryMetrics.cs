using System.Diagnostics.Metrics;

namespace NetObserv.Query.Loki;

/// <summary>Query counters: <c>netobserv.query.requests</c>, <c>netobserv.query.errors</c>, <c>netobserv.query.cache.hits</c>.</summary>
internal sealed class QueryMetrics
{
    public const string MeterName = "NetObserv.Query";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _errors;
    private readonly Counter<long> _cacheHits;
    private readonly Histogram<double> _duration;

    public QueryMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(new MeterOptions(MeterName));
        _requests = meter.CreateCounter<long>("netobserv.query.requests", description: "Loki API query requests");
        _errors = meter.CreateCounter<long>("netobserv.query.errors", description: "Loki API requests answered with an error");
        _cacheHits = meter.CreateCounter<long>("netobserv.query.cache.hits", description: "Query results served from the cache");
        _duration = meter.CreateHistogram<double>("netobserv.query.duration", "s", "Query execution time");
    }

    public void Request(string endpoint) => _requests.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint));

    public void Error(string endpoint) => _errors.Add(1, new KeyValuePair<string, object?>("endpoint", endpoint));

    public void CacheHit() => _cacheHits.Add(1);

    public void Duration(double seconds) => _duration.Record(seconds);
}
