namespace NetObserv.Server.Ingest;

/// <summary>What the ingest door decided for a batch.</summary>
internal enum IngestOutcome
{
    /// <summary>Stored as promised (<c>Storage:Durability</c>): the sender gets its acknowledgement.</summary>
    Accepted,

    /// <summary>Not kept now (channel or journal full, journal disk failing): the sender should retry later.</summary>
    Backpressure,

    /// <summary>Never acceptable as sent (larger than anything the store takes at once): retrying will not help.</summary>
    Invalid,
}
