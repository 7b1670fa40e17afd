namespace NetObserv.Query.Planning;

/// <summary>Query settings (section <c>Query</c>).</summary>
public sealed class QueryOptions
{
    public const string Section = "Query";

    /// <summary>
    /// The stream labels of flows, comma-separated, besides the constant <c>app="netobserv-flowcollector"</c>.
    /// Defaults to SrcK8S_Namespace, SrcK8S_OwnerName, DstK8S_Namespace, DstK8S_OwnerName, FlowDirection,
    /// K8S_FlowLayer, _RecordType.
    /// </summary>
    public string StreamLabels { get; set; } =
        "SrcK8S_Namespace,SrcK8S_OwnerName,DstK8S_Namespace,DstK8S_OwnerName,FlowDirection,K8S_FlowLayer,_RecordType";

    /// <summary>Most series a metric query may return. Defaults to 500.</summary>
    public int MaxSeries { get; set; } = 500;

    /// <summary>Most log lines a query may ask for (<c>limit</c>). Defaults to 5,000.</summary>
    public int MaxEntries { get; set; } = 5_000;

    /// <summary>Longest time range of one query. Defaults to 721 hours (30 days and 1 hour).</summary>
    public TimeSpan MaxQueryRange { get; set; } = TimeSpan.FromHours(721);

    /// <summary>Most points per series of a range query. Defaults to 11,000.</summary>
    public int MaxPoints { get; set; } = 11_000;

    /// <summary>
    /// Most flows a metric query with line filters may read: such range aggregations render and test each
    /// candidate flow's line in memory, so their cost grows with the flows the selector and label filters
    /// leave. A query reading more is answered with a 400 naming this limit. Defaults to 5,000,000.
    /// </summary>
    public long MaxLineFilterRows { get; set; } = 5_000_000;

    /// <summary>Results of ranges that ended at least this long ago are cached. Defaults to 5 minutes.</summary>
    public TimeSpan CacheMinAge { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a cached result is kept. Defaults to 10 minutes.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Cache size limit in cached results. Defaults to 1,000.</summary>
    public int CacheEntries { get; set; } = 1_000;

    /// <summary>PostgreSQL <c>work_mem</c> of query connections. Defaults to <c>64MB</c>.</summary>
    public string WorkMem { get; set; } = "64MB";

    /// <summary>Timeout of one query's SQL. Defaults to 60 seconds.</summary>
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(60);
}
