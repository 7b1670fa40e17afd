using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NetObserv.Flows.LokiPush;
using NetObserv.Query.Planning;
using NetObserv.Storage;

namespace NetObserv.Query.Loki;

/// <summary>
/// <c>GET /config</c>: the settings this backend enforces, as YAML under Loki's names, for clients that read
/// Loki's configuration. The NetObserv console plugin reads <c>limits_config</c> (shown to admins, and named in
/// its error hints) and <c>ingester.max_chunk_age</c> (shown as the collection latency).
/// </summary>
internal static class LokiConfigEndpoint
{
    public const string Route = "/config";

    public static IEndpointRouteBuilder MapLokiConfig(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(Route, (HttpContext context) =>
        {
            var services = context.RequestServices;
            var query = services.GetRequiredService<IOptions<QueryOptions>>().Value;
            var push = services.GetRequiredService<IConfiguration>().GetSection(LokiPushOptions.Section).Get<LokiPushOptions>()
                ?? new LokiPushOptions();
            var storage = services.GetService<IOptions<StorageOptions>>()?.Value ?? new StorageOptions();
            return Results.Text(Yaml(query, push, storage), "text/plain; charset=utf-8");
        });
        return endpoints;
    }

    /// <summary>The YAML document: each value is the one the named setting holds.</summary>
    internal static string Yaml(QueryOptions query, LokiPushOptions push, StorageOptions storage)
    {
        var sb = new StringBuilder();
        sb.Append("# The limits this backend enforces, under Loki's names (from the settings in the comments).\n");
        sb.Append("limits_config:\n");
        Line(sb, "max_entries_limit_per_query", Number(query.MaxEntries), "Query:MaxEntries");
        Line(sb, "max_query_series", Number(query.MaxSeries), "Query:MaxSeries");
        Line(sb, "max_query_length", Duration(query.MaxQueryRange), "Query:MaxQueryRange");
        Line(sb, "query_timeout", Duration(query.QueryTimeout), "Query:QueryTimeout");
        Line(sb, "max_line_size", Number(push.MaxLineBytes), "LokiPush:MaxLineBytes");
        Line(sb, "max_label_names_per_series", Number(push.MaxLabelNamesPerSeries), "LokiPush:MaxLabelNamesPerSeries");
        Line(sb, "max_label_name_length", Number(push.MaxLabelNameLength), "LokiPush:MaxLabelNameLength");
        Line(sb, "max_label_value_length", Number(push.MaxLabelValueLength), "LokiPush:MaxLabelValueLength");
        Line(sb, "retention_period", Duration(storage.Retention), "Storage:Retention");
        sb.Append("ingester:\n");
        Line(sb, "max_chunk_age", Duration(storage.FlushInterval), "Storage:FlushInterval: received flows are queryable within it");
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string name, string value, string source) =>
        sb.Append("  ").Append(name).Append(": ").Append(value).Append(" # ").Append(source).Append('\n');

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>A duration as Go's <c>time.ParseDuration</c> reads it (hours at most: Go has no days).</summary>
    internal static string Duration(TimeSpan duration)
    {
        var ms = (long)duration.TotalMilliseconds;
        if (ms <= 0)
        {
            return "0s";
        }

        var sb = new StringBuilder();
        foreach (var (unit, suffix) in new[] { (3_600_000L, "h"), (60_000L, "m"), (1_000L, "s"), (1L, "ms") })
        {
            if (ms >= unit)
            {
                sb.Append((ms / unit).ToString(CultureInfo.InvariantCulture)).Append(suffix);
                ms %= unit;
            }
        }

        return sb.ToString();
    }
}
