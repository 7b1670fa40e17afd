namespace NetObserv.GrafanaPlugin.Data;

/// <summary>Where a query's error comes from, as Grafana's <c>DataResponse.errorSource</c> names it.</summary>
internal static class ErrorSource
{
    /// <summary>The query or the data source's settings.</summary>
    public const string Plugin = "plugin";

    /// <summary>The backend.</summary>
    public const string Downstream = "downstream";
}

/// <summary>A query's error: its HTTP-like status, a message for the user and its source.</summary>
internal sealed class PluginQueryException : Exception
{
    public PluginQueryException()
    {
    }

    public PluginQueryException(string message) : base(message)
    {
    }

    public PluginQueryException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public PluginQueryException(int status, string message, string source) : base(message)
    {
        Status = status;
        Source = source;
    }

    public int Status { get; } = 500;

    public new string Source { get; } = ErrorSource.Plugin;
}
