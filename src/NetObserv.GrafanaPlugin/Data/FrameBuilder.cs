using System.Text.Json;
using System.Text.Json.Nodes;
using NetObserv.GrafanaPlugin.Frames;
using NetObserv.Query.Grpc.V1;

namespace NetObserv.GrafanaPlugin.Data;

/// <summary>The backend's answers as Grafana data frames.</summary>
internal static class FrameBuilder
{
    private static readonly (string Name, Func<FlowRow, string> Get)[] s_strings =
    [
        ("SrcAddr", r => r.SrcAddr), ("DstAddr", r => r.DstAddr), ("AgentIP", r => r.AgentIp),
        ("SrcK8S_Name", r => r.SrcK8SName), ("SrcK8S_Type", r => r.SrcK8SType),
        ("SrcK8S_Namespace", r => r.SrcK8SNamespace), ("SrcK8S_OwnerName", r => r.SrcK8SOwnerName),
        ("SrcK8S_OwnerType", r => r.SrcK8SOwnerType), ("SrcK8S_HostName", r => r.SrcK8SHostName),
        ("SrcK8S_Zone", r => r.SrcK8SZone), ("DstK8S_Name", r => r.DstK8SName), ("DstK8S_Type", r => r.DstK8SType),
        ("DstK8S_Namespace", r => r.DstK8SNamespace), ("DstK8S_OwnerName", r => r.DstK8SOwnerName),
        ("DstK8S_OwnerType", r => r.DstK8SOwnerType), ("DstK8S_HostName", r => r.DstK8SHostName),
        ("DstK8S_Zone", r => r.DstK8SZone), ("K8S_FlowLayer", r => r.K8SFlowLayer),
        ("K8S_ClusterName", r => r.K8SClusterName),
    ];

    private static readonly (string Name, Func<FlowRow, int?> Get)[] s_integers =
    [
        ("SrcPort", r => r.HasSrcPort ? r.SrcPort : null), ("DstPort", r => r.HasDstPort ? r.DstPort : null),
        ("Proto", r => r.HasProto ? r.Proto : null), ("Sampling", r => r.HasSampling ? r.Sampling : null),
        ("FlowDirection", r => r.HasFlowDirection ? r.FlowDirection : null), ("Dscp", r => r.HasDscp ? r.Dscp : null),
        ("Flags", r => r.HasFlags ? r.Flags : null),
    ];

    private static readonly (string Name, Func<FlowRow, long?> Get)[] s_longs =
    [
        ("TimeFlowRttNs", r => r.HasTimeFlowRttNs ? r.TimeFlowRttNs : null),
        ("DnsLatencyMs", r => r.HasDnsLatencyMs ? r.DnsLatencyMs : null),
        ("PktDropBytes", r => r.HasPktDropBytes ? r.PktDropBytes : null),
        ("PktDropPackets", r => r.HasPktDropPackets ? r.PktDropPackets : null),
    ];

    /// <summary>
    /// A matrix as time-series frames, one per series (<c>timeseries-multi</c>): a <c>Time</c> field and a
    /// <c>Value</c> field whose labels are the series labels. <paramref name="unit"/> is the FieldConfig unit.
    /// </summary>
    public static List<DataFrame> TimeSeries(string refId, RangeQueryResponse response, long stepMs, string? unit)
    {
        var frames = new List<DataFrame>();
        foreach (var series in response.Matrix.Series)
        {
            var meta = DataFrame.TypeMeta("timeseries-multi", 0, 1);
            meta["executedQueryString"] = response.ExecutedQuery;
            var labels = series.Labels.ToDictionary(l => l.Name, l => l.Value, StringComparer.Ordinal);
            var config = new JsonObject();
            if (unit is not null)
            {
                config["unit"] = unit;
            }

            frames.Add(new DataFrame("", refId, meta,
            [
                FrameField.Time("Time", series.TimestampsMs.Select(ms => ms * 1_000_000).ToList()) with
                {
                    Config = new JsonObject { ["interval"] = stepMs },
                },
                FrameField.Float64("Value", series.Values) with { Labels = labels, Config = config },
            ]));
        }

        return frames;
    }

    /// <summary>Streams as one <c>log-lines</c> frame: <c>timestamp</c>, <c>body</c>, <c>labels</c> (JSON), in the query's order.</summary>
    public static DataFrame LogLines(string refId, RangeQueryResponse response, bool forward)
    {
        var entries = response.Streams.Streams
            .SelectMany(s => s.Entries.Select(e => (Entry: e, s.Labels)))
            .ToList();
        entries.Sort((a, b) => forward
            ? a.Entry.TimestampUnixNano.CompareTo(b.Entry.TimestampUnixNano)
            : b.Entry.TimestampUnixNano.CompareTo(a.Entry.TimestampUnixNano));
        var labelJson = new Dictionary<Google.Protobuf.Collections.RepeatedField<Label>, byte[]>(ReferenceEqualityComparer.Instance);
        var meta = DataFrame.TypeMeta("log-lines", 0, 0);
        meta["preferredVisualisationType"] = "logs";
        meta["executedQueryString"] = response.ExecutedQuery;
        return new DataFrame("", refId, meta,
        [
            FrameField.Time("timestamp", entries.Select(e => e.Entry.TimestampUnixNano).ToList()),
            FrameField.String("body", entries.Select(e => e.Entry.Line).ToList()),
            FrameField.Json("labels", entries.Select(e =>
            {
                if (!labelJson.TryGetValue(e.Labels, out var json))
                {
                    labelJson[e.Labels] = json = JsonSerializer.SerializeToUtf8Bytes(
                        e.Labels.ToDictionary(l => l.Name, l => l.Value, StringComparer.Ordinal),
                        FrameJsonContext.Default.DictionaryStringString);
                }

                return json;
            }).ToList()),
        ]);
    }

    /// <summary>The flow table: one <c>table</c> frame, fields named after the NetObserv JSON fields.</summary>
    public static DataFrame FlowTable(string refId, IReadOnlyList<FlowRow> rows, string executedQuery)
    {
        var fields = new List<FrameField>
        {
            FrameField.Time("TimeFlowEndMs", rows.Select(r => r.TimeFlowEndUnixNano).ToList()),
            FrameField.Time("TimeFlowStartMs", rows.Select(r => r.TimeFlowStartUnixNano).ToList()),
            FrameField.Int64("Bytes", rows.Select(r => (long?)r.Bytes).ToList(), nullable: false) with
            {
                Config = new JsonObject { ["unit"] = "decbytes" },
            },
            FrameField.Int64("Packets", rows.Select(r => (long?)r.Packets).ToList(), nullable: false),
        };
        fields.AddRange(s_strings.Select(c => FrameField.String(c.Name, rows.Select(c.Get).ToList())));
        fields.AddRange(s_integers.Select(c => FrameField.Int32(c.Name, rows.Select(c.Get).ToList())));
        fields.AddRange(s_longs.Select(c => FrameField.Int64(c.Name, rows.Select(c.Get).ToList(), nullable: true)));
        fields.Add(FrameField.Int64("TimeReceived", rows.Select(r => (long?)r.TimeReceivedUnix).ToList(), nullable: false));
        var meta = DataFrame.TypeMeta("table", 0, 0);
        meta["preferredVisualisationType"] = "table";
        meta["executedQueryString"] = executedQuery;
        return new DataFrame("flows", refId, meta, fields);
    }
}
