namespace NetObserv.Server.Tenants;

/// <summary>Limits per tenant (section <c>Tenants</c>), past which a request is answered 429.</summary>
public sealed class TenantLimitsOptions
{
    public const string Section = "Tenants";

    /// <summary>
    /// Most <c>query</c> / <c>query_range</c> requests of one tenant in progress at once (evaluated or waiting
    /// for one of the <c>Query:MaxConcurrentQueries</c> slots), so one tenant cannot fill the line of all;
    /// 0 turns the limit off. A request reading several tenants counts for each. Defaults to 16.
    /// </summary>
    public int MaxQueriesInFlight { get; set; } = 16;

    /// <summary>
    /// Loki push bytes per second one tenant may send, measured on the request bodies as sent
    /// (<c>Content-Length</c>, compressed); 0 turns the limit off. Defaults to 4 MiB/s (Loki's
    /// <c>ingestion_rate_mb</c>).
    /// </summary>
    public long PushBytesPerSecond { get; set; } = 4 * 1024 * 1024;

    /// <summary>
    /// Push bytes one tenant may send at once above the rate; also the largest single push accepted while the
    /// limit is on. Defaults to 64 MiB (<c>LokiPush:MaxBodyBytes</c>).
    /// </summary>
    public long PushBurstBytes { get; set; } = 64 * 1024 * 1024;

    public List<string> Validate()
    {
        var errors = new List<string>();
        if (MaxQueriesInFlight is < 0 or > 100_000)
        {
            errors.Add($"{Section}:MaxQueriesInFlight must be between 0 (off) and 100000 (got {MaxQueriesInFlight}).");
        }

        if (PushBytesPerSecond < 0)
        {
            errors.Add($"{Section}:PushBytesPerSecond must be 0 (off) or more (got {PushBytesPerSecond}).");
        }

        if (PushBurstBytes < 1024)
        {
            errors.Add($"{Section}:PushBurstBytes must be at least 1024 (got {PushBurstBytes}).");
        }

        return errors;
    }
}
