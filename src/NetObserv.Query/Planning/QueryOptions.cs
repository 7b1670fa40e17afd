using Microsoft.Extensions.Options;

namespace NetObserv.Query.Planning;

/// <summary>Query settings (section <c>Query</c>).</summary>
public sealed class QueryOptions
{
    public const string Section = "Query";

    /// <summary>
    /// The stream labels of flows, comma-separated, besides the constant <c>app="netobserv-flowcollector"</c>.
    /// Defaults to flowlogs-pipeline's default Loki labels (SrcK8S_Namespace, SrcK8S_OwnerName, SrcK8S_Type,
    /// DstK8S_Namespace, DstK8S_OwnerName, DstK8S_Type, K8S_FlowLayer, FlowDirection) and _RecordType.
    /// </summary>
    public string StreamLabels { get; set; } =
        "SrcK8S_Namespace,SrcK8S_OwnerName,SrcK8S_Type,DstK8S_Namespace,DstK8S_OwnerName,DstK8S_Type,K8S_FlowLayer,FlowDirection,_RecordType";

    /// <summary>Most series a metric query may return. Defaults to 500.</summary>
    public int MaxSeries { get; set; } = 500;

    /// <summary>Most log lines a query may ask for (<c>limit</c>). Defaults to 5,000.</summary>
    public int MaxEntries { get; set; } = 5_000;

    /// <summary>
    /// Longest time range of one request (<c>start</c>/<c>end</c>, <c>since</c> or their defaults; also the
    /// metadata endpoints) and longest range of a range aggregation (<c>[30d]</c>). Defaults to 721 hours
    /// (30 days and 1 hour).
    /// </summary>
    public TimeSpan MaxQueryRange { get; set; } = TimeSpan.FromHours(721);

    /// <summary>Most points per series of a range query. Defaults to 11,000.</summary>
    public int MaxPoints { get; set; } = 11_000;

    /// <summary>
    /// Most flows a metric query with line filters may read: such range aggregations render and test each
    /// candidate flow's line in memory, so their cost grows with the flows the selector and label filters
    /// leave. Log queries with line filters stop at the same bound (their SQL cannot stop at <c>limit</c>,
    /// since it does not know which rows pass). A query reading more is answered with a 400 naming this
    /// limit. Defaults to 5,000,000.
    /// </summary>
    public long MaxLineFilterRows { get; set; } = 5_000_000;

    /// <summary>
    /// True (the default): every window <c>(t - range, t]</c> is Loki's for any <c>start</c>; a rollup answers only
    /// when its buckets divide start, step and range, or reads the buckets at sub-bucket edges from flows, else
    /// flows answer. False: a rollup whose buckets divide step and range answers whatever the start, with windows
    /// shifted by less than one bucket (cheaper for long ranges whose start is not on a bucket).
    /// </summary>
    public bool ExactWindows { get; set; } = true;

    /// <summary>Results of ranges that ended at least this long ago are cached. Defaults to 5 minutes.</summary>
    public TimeSpan CacheMinAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long before a cached answer was computed a flow may have been accepted and still not be
    /// queryable (waiting in the ingest channel or the writer's batch). A flow accepted since the answer was
    /// computed less this delay, and ending within its range, drops the answer. Defaults to 1 minute.
    /// </summary>
    public TimeSpan CacheIngestDelay { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a cached result is kept after it was computed (reads do not extend it). Defaults to 10 minutes.
    /// </summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Memory budget of the result cache, in bytes: an entry costs the size of its serialized answer (and
    /// its key), an answer larger than 1/16 of the budget is not cached, and once the budget is spent new
    /// answers are not cached until older ones expire or are compacted away. 0 disables the cache.
    /// Defaults to 256 MiB.
    /// </summary>
    public long CacheMaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>
    /// Largest answer of <c>query</c> and <c>query_range</c>, in bytes of JSON. A larger answer is refused
    /// with a 400 (before any of it is sent) that says how to narrow the query. Answers up to 1 MiB are
    /// built in memory; larger ones are measured first and then streamed to the client. Defaults to 64 MiB.
    /// </summary>
    public long MaxResponseBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Most <c>query</c> and <c>query_range</c> requests evaluated at once (answers from the cache take no
    /// slot); more wait in line. Each holds at most <see cref="MaxSeries"/> x <see cref="MaxPoints"/> points
    /// while it is evaluated, so this bounds the memory of queries in progress. Defaults to 4.
    /// </summary>
    public int MaxConcurrentQueries { get; set; } = 4;

    /// <summary>
    /// Most queries waiting for a slot (<see cref="MaxConcurrentQueries"/>); past it a query is answered 429
    /// at once. Defaults to 100.
    /// </summary>
    public int MaxQueuedQueries { get; set; } = 100;

    /// <summary>PostgreSQL <c>work_mem</c> of query connections. Defaults to <c>64MB</c>.</summary>
    public string WorkMem { get; set; } = "64MB";

    /// <summary>Timeout of one query's SQL. Defaults to 60 seconds.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Checks <see cref="QueryOptions"/> and reports every problem at once.</summary>
internal sealed class QueryOptionsValidator : IValidateOptions<QueryOptions>
{
    public ValidateOptionsResult Validate(string? name, QueryOptions options)
    {
        List<string>? errors = null;
        void Check(bool ok, string message)
        {
            if (!ok)
            {
                (errors ??= []).Add(message);
            }
        }

        Check(options.MaxSeries >= 1, "Query:MaxSeries must be at least 1.");
        Check(options.MaxEntries >= 1, "Query:MaxEntries must be at least 1.");
        Check(options.MaxQueryRange > TimeSpan.Zero, "Query:MaxQueryRange must be positive.");
        Check(options.MaxPoints >= 1, "Query:MaxPoints must be at least 1.");
        Check(options.MaxLineFilterRows >= 1, "Query:MaxLineFilterRows must be at least 1.");
        Check(options.CacheMaxBytes >= 0, "Query:CacheMaxBytes must be 0 (no cache) or more.");
        Check(options.CacheIngestDelay >= TimeSpan.Zero, "Query:CacheIngestDelay must be 0 or more.");
        Check(options.CacheDuration + options.CacheIngestDelay < TimeSpan.FromMinutes(59),
            "Query:CacheDuration plus Query:CacheIngestDelay must be under 59 minutes (the ingest watermark keeps one hour).");
        Check(options.MaxResponseBytes >= 1024, "Query:MaxResponseBytes must be at least 1024.");
        Check(options.QueryTimeout > TimeSpan.Zero, "Query:QueryTimeout must be positive.");
        Check(options.MaxConcurrentQueries >= 1, "Query:MaxConcurrentQueries must be at least 1.");
        Check(options.MaxQueuedQueries >= 0, "Query:MaxQueuedQueries must be 0 (no waiting) or more.");
        return errors is null
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(errors);
    }
}
