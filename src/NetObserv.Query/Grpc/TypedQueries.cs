using System.Text;
using NetObserv.Query.Grpc.V1;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Grpc;

/// <summary>
/// The LogQL the typed queries stand for, so the one planner answers them. Both keep the dashboards' rule
/// for a flow seen by two nodes (count it once: <c>FlowDirection!="1" or DstK8S_OwnerName=""</c>) and
/// volumetry is sampling-corrected (<c>SampledBytes</c>, <c>SampledPackets</c>), as the dashboards are.
/// </summary>
internal static class TypedQueries
{
    /// <summary>Longest filter value accepted (a Kubernetes name is at most 253 characters).</summary>
    public const int MaxFilterLength = 253;

    private const string Deduplicate = " | FlowDirection!=\"1\" or DstK8S_OwnerName=\"\"";

    /// <summary>The log query of the flow table.</summary>
    public static string Flows(FlowFilters? filters) => Selector(filters) + Deduplicate;

    /// <summary>
    /// <c>sum by (group) (rate(selector | dedup [| json | unwrap SampledX | __error__=""] [step]))</c>.
    /// </summary>
    public static string Volumetry(VolumetryRequest request, long stepMs)
    {
        var prefix = request.Side == Side.Destination ? "Dst" : "Src";
        var groups = request.GroupBy switch
        {
            GroupBy.Namespace => $"{prefix}K8S_Namespace",
            GroupBy.Workload => $"{prefix}K8S_Namespace, {prefix}K8S_OwnerName",
            _ => throw new QueryException($"unknown group_by {(int)request.GroupBy}"),
        };
        var unwrap = request.Metric switch
        {
            Metric.Bytes => " | json | unwrap SampledBytes | __error__=\"\"",
            Metric.Packets => " | json | unwrap SampledPackets | __error__=\"\"",
            Metric.Flows => "",
            _ => throw new QueryException($"unknown metric {(int)request.Metric}"),
        };
        var window = LogQLDuration.Format(TimeSpan.FromMilliseconds(stepMs));
        return $"sum by ({groups}) (rate({Selector(request.Filters)}{Deduplicate}{unwrap} [{window}]))";
    }

    private static string Selector(FlowFilters? filters)
    {
        var sb = new StringBuilder("{").Append(FlowFieldCatalog.AppLabel).Append("=\"").Append(FlowFieldCatalog.AppValue).Append('"');
        if (filters is not null)
        {
            Matcher(sb, "SrcK8S_Namespace", filters.SrcNamespace);
            Matcher(sb, "DstK8S_Namespace", filters.DstNamespace);
            Matcher(sb, "SrcK8S_OwnerName", filters.SrcWorkload);
            Matcher(sb, "DstK8S_OwnerName", filters.DstWorkload);
        }

        return sb.Append('}').ToString();
    }

    private static void Matcher(StringBuilder sb, string name, string value)
    {
        if (value.Length == 0)
        {
            return;
        }

        if (value.Length > MaxFilterLength)
        {
            throw new QueryException($"filter {name} is longer than {MaxFilterLength} characters");
        }

        sb.Append(", ").Append(name).Append('=');
        LogQLFormatter.Quote(sb, value);
    }
}
