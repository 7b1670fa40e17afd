namespace NetObserv.Query.Planning;

/// <summary>Rows a log query read from the database (lines kept and filtered out).</summary>
internal sealed class LogScan
{
    public long Rows { get; set; }
}
