namespace NetObserv.GrafanaPlugin.Hosting;

internal static partial class PluginLog
{
    [LoggerMessage(EventId = 5001, EventName = "PluginStarted", Level = LogLevel.Information,
        Message = "plugin serving on {Address}")]
    public static partial void Started(ILogger logger, string address);

    [LoggerMessage(EventId = 5002, EventName = "NotStartedByGrafana", Level = LogLevel.Error,
        Message = "this program is a Grafana plugin and is started by Grafana: {Reason}")]
    public static partial void NotStartedByGrafana(ILogger logger, string reason);

    [LoggerMessage(EventId = 5003, EventName = "QueryFailed", Level = LogLevel.Warning,
        Message = "query {RefId} ({QueryType}) failed with status {Status}: {Reason}")]
    public static partial void QueryFailed(ILogger logger, string refId, string queryType, int status, string reason);

    [LoggerMessage(EventId = 5005, EventName = "QueryCrashed", Level = LogLevel.Error,
        Message = "query {RefId} ({QueryType}) failed in the plugin, answered 500")]
    public static partial void QueryCrashed(ILogger logger, string refId, string queryType, Exception exception);

    [LoggerMessage(EventId = 5006, EventName = "ResourceFailed", Level = LogLevel.Error,
        Message = "resource {Path} failed in the plugin, answered 500")]
    public static partial void ResourceFailed(ILogger logger, string path, Exception exception);

    [LoggerMessage(EventId = 5004, EventName = "HealthCheckFailed", Level = LogLevel.Warning,
        Message = "health check of {Url} failed: {Reason}")]
    public static partial void HealthCheckFailed(ILogger logger, string url, string reason);
}
