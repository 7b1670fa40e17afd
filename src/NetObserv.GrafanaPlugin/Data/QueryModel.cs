using System.Text.Json;
using NetObserv.Query.Grpc.V1;

namespace NetObserv.GrafanaPlugin.Data;

/// <summary>
/// A panel's query (<c>DataQuery.json</c>): <c>queryType</c> <c>logql</c> (<c>expr</c>, <c>maxLines</c>,
/// <c>order</c>), <c>volumetry</c> (<c>groupBy</c> namespace|workload, <c>metric</c> bytes|packets|flows,
/// <c>direction</c> src|dst) or <c>flows</c> (<c>limit</c>, <c>order</c>); volumetry and flows take the
/// filters <c>srcNamespace</c>, <c>dstNamespace</c>, <c>srcWorkload</c>, <c>dstWorkload</c> (exact values).
/// </summary>
internal sealed class QueryModel
{
    public const string LogQL = "logql";
    public const string Volumetry = "volumetry";
    public const string Flows = "flows";

    /// <summary>Lines of a log query when the panel names none (the Loki data source's default).</summary>
    public const int DefaultMaxLines = 1000;

    /// <summary>Rows of the flow table when the panel names none.</summary>
    public const int DefaultLimit = 1000;

    /// <summary>Largest query model read, in bytes.</summary>
    public const int MaxJsonBytes = 256 * 1024;

    public string QueryType { get; private init; } = LogQL;
    public string Expr { get; private init; } = "";
    public int MaxLines { get; private init; } = DefaultMaxLines;
    public int Limit { get; private init; } = DefaultLimit;
    public bool Forward { get; private init; }
    public GroupBy GroupBy { get; private init; }
    public Metric Metric { get; private init; }
    public Side Side { get; private init; }
    public FlowFilters Filters { get; private init; } = new();

    public static QueryModel Parse(ReadOnlySpan<byte> json, string queryTypeField)
    {
        if (json.Length > MaxJsonBytes)
        {
            throw Bad($"the query model is larger than {MaxJsonBytes} bytes");
        }

        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(json.IsEmpty ? "{}"u8.ToArray() : json.ToArray());
            root = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw Bad("the query model is not JSON: " + ex.Message);
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw Bad("the query model is not a JSON object");
        }

        var type = String(root, "queryType") ?? (queryTypeField.Length > 0 ? queryTypeField : LogQL);
        var filters = new FlowFilters
        {
            SrcNamespace = String(root, "srcNamespace") ?? "",
            DstNamespace = String(root, "dstNamespace") ?? "",
            SrcWorkload = String(root, "srcWorkload") ?? "",
            DstWorkload = String(root, "dstWorkload") ?? "",
        };
        var forward = (String(root, "order") ?? "desc") switch
        {
            "asc" => true,
            "desc" => false,
            var other => throw Bad($"order must be \"asc\" or \"desc\", not \"{other}\""),
        };
        return type switch
        {
            LogQL => new QueryModel
            {
                QueryType = LogQL,
                Expr = String(root, "expr") is { Length: > 0 } expr ? expr : throw Bad("a logql query needs \"expr\""),
                MaxLines = Integer(root, "maxLines") ?? DefaultMaxLines,
                Forward = forward,
            },
            Volumetry => new QueryModel
            {
                QueryType = Volumetry,
                GroupBy = (String(root, "groupBy") ?? "namespace") switch
                {
                    "namespace" => GroupBy.Namespace,
                    "workload" => GroupBy.Workload,
                    var other => throw Bad($"groupBy must be \"namespace\" or \"workload\", not \"{other}\""),
                },
                Metric = (String(root, "metric") ?? "bytes") switch
                {
                    "bytes" => Metric.Bytes,
                    "packets" => Metric.Packets,
                    "flows" => Metric.Flows,
                    var other => throw Bad($"metric must be \"bytes\", \"packets\" or \"flows\", not \"{other}\""),
                },
                Side = (String(root, "direction") ?? "src") switch
                {
                    "src" => Side.Source,
                    "dst" => Side.Destination,
                    var other => throw Bad($"direction must be \"src\" or \"dst\", not \"{other}\""),
                },
                Filters = filters,
            },
            Flows => new QueryModel
            {
                QueryType = Flows,
                Limit = Integer(root, "limit") ?? DefaultLimit,
                Forward = forward,
                Filters = filters,
            },
            _ => throw Bad($"unknown queryType \"{type}\" (logql, volumetry or flows)"),
        };
    }

    private static PluginQueryException Bad(string message) => new(400, message, ErrorSource.Plugin);

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int? Integer(JsonElement root, string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind is JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n > 0)
        {
            return n;
        }

        if (value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), System.Globalization.NumberStyles.None,
            System.Globalization.CultureInfo.InvariantCulture, out n) && n > 0)
        {
            return n;
        }

        throw Bad($"{name} must be a positive integer");
    }
}
