using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace NetObserv.GrafanaPlugin.Diagnostics;

/// <summary>
/// The plugin's own counters, returned by <c>CollectMetrics</c> in the Prometheus text format (Grafana
/// serves them at <c>/api/plugins/netobserv-flows-datasource/metrics</c>).
/// </summary>
internal sealed class PluginMetrics
{
    private readonly ConcurrentDictionary<(string Type, string Outcome), long> _queries = new();
    private readonly ConcurrentDictionary<string, long> _resources = new(StringComparer.Ordinal);
    private long _healthChecks;
    private double _querySeconds;
    private readonly Lock _lock = new();

    public void Query(string type, bool ok, TimeSpan elapsed)
    {
        _queries.AddOrUpdate((type, ok ? "ok" : "error"), 1, (_, n) => n + 1);
        lock (_lock)
        {
            _querySeconds += elapsed.TotalSeconds;
        }
    }

    public void Resource(string path) => _resources.AddOrUpdate(path, 1, (_, n) => n + 1);

    public void HealthCheck() => Interlocked.Increment(ref _healthChecks);

    public string Render()
    {
        var sb = new StringBuilder();
        sb.Append("# HELP netobserv_plugin_queries_total Queries answered, by query type and outcome.\n");
        sb.Append("# TYPE netobserv_plugin_queries_total counter\n");
        foreach (var ((type, outcome), n) in _queries.OrderBy(q => q.Key.Type, StringComparer.Ordinal).ThenBy(q => q.Key.Outcome, StringComparer.Ordinal))
        {
            sb.Append(CultureInfo.InvariantCulture, $"netobserv_plugin_queries_total{{query_type=\"{type}\",outcome=\"{outcome}\"}} {n}\n");
        }

        sb.Append("# HELP netobserv_plugin_query_seconds_total Time spent answering queries.\n");
        sb.Append("# TYPE netobserv_plugin_query_seconds_total counter\n");
        lock (_lock)
        {
            sb.Append(CultureInfo.InvariantCulture, $"netobserv_plugin_query_seconds_total {_querySeconds}\n");
        }

        sb.Append("# HELP netobserv_plugin_resource_calls_total CallResource requests, by resource.\n");
        sb.Append("# TYPE netobserv_plugin_resource_calls_total counter\n");
        foreach (var (path, n) in _resources.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            sb.Append(CultureInfo.InvariantCulture, $"netobserv_plugin_resource_calls_total{{resource=\"{path}\"}} {n}\n");
        }

        sb.Append("# HELP netobserv_plugin_health_checks_total CheckHealth calls.\n");
        sb.Append("# TYPE netobserv_plugin_health_checks_total counter\n");
        sb.Append(CultureInfo.InvariantCulture, $"netobserv_plugin_health_checks_total {Interlocked.Read(ref _healthChecks)}\n");
        return sb.ToString();
    }
}
