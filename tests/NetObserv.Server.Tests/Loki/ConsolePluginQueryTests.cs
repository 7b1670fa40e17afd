using System.Globalization;
using System.Net;
using System.Text.Json;
using NetObserv.Flows;
using NetObserv.Server.Tests.Ingest.LokiPush;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// The LogQL the NetObserv console plugin sends, as its Go tests expect it (pkg/server/server_flows_test.go,
/// pkg/loki/topology_query_test.go, pkg/server/server_test.go), over HTTP against flows pushed as
/// flowlogs-pipeline pushes them (protobuf and snappy, label fields out of the line): every answer is checked
/// against counts and sums computed here from the pushed flows, for IPv4 and IPv6 and for aligned and
/// unaligned starts.
/// </summary>
public sealed class ConsolePluginQueryTests(PushServerFixture fixture) : IClassFixture<PushServerFixture>, IAsyncLifetime
{
    private const string Tenant = "console";
    private const string App = "{app=\"netobserv-flowcollector\"";

    private static readonly long s_originMs =
        ((DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 3_600_000) - 3) * 3_600_000;

    private static readonly List<FlowRecord> s_flows = Generate();

    private static List<FlowRecord> Generate()
    {
        var random = new Random(2024);
        string[] namespaces = ["default", "ns1", "ns2", "NS1-front"];
        string[] names = ["name1-abc", "name2-x", "test-pod", "other"];
        string?[] types = ["Pod", "Service", null];
        var flows = new List<FlowRecord>();
        for (var i = 0; i < 400; i++)
        {
            var v6 = i % 5 == 4;
            var end = s_originMs + random.Next(1, 30 * 60_000);
            var srcNs = i % 9 == 0 ? null : namespaces[random.Next(namespaces.Length)];
            flows.Add(new FlowRecord
            {
                TimeFlowStartMs = end - 800,
                TimeFlowEndMs = end,
                TimeReceived = end / 1000,
                Etype = v6 ? 34525 : 2048,
                SrcAddr = IPAddress.Parse(v6 ? $"fd00::{random.Next(1, 4):x}" : $"10.128.0.{random.Next(1, 4)}"),
                DstAddr = IPAddress.Parse(v6 ? $"fd01::{random.Next(1, 40):x}" : $"10.129.{random.Next(0, 2)}.{random.Next(1, 40)}"),
                Proto = random.Next(3) == 0 ? 17 : 6,
                SrcPort = random.Next(4) == 0 ? 8080 : 40_000 + i,
                DstPort = random.Next(5) == 0 ? 70 : 443,
                Bytes = random.Next(100, 10_000),
                Packets = random.Next(1, 30),
                FlowDirection = random.Next(3),
                K8SFlowLayer = "app",
                TimeFlowRttNs = i % 3 == 0 ? random.Next(50_000, 20_000_000) : null,
                DnsId = i % 4 == 1 ? i : null,
                DnsLatencyMs = i % 4 == 1 ? (i % 20 == 1 ? 0 : random.Next(1, 300)) : null,
                PktDropBytes = i % 7 == 2 ? 66 * (1 + (i % 5)) : null,
                PktDropPackets = i % 7 == 2 ? 1 + (i % 5) : null,
                PktDropLatestDropCause = i % 7 == 2 ? "SKB_DROP_REASON_NO_SOCKET" : null,
                Src = new KubernetesMetadata
                {
                    Namespace = srcNs,
                    Name = srcNs is null ? null : names[random.Next(names.Length)],
                    OwnerName = srcNs is null ? null : "web",
                    OwnerType = srcNs is null ? null : "Deployment",
                    Type = srcNs is null ? null : "Pod",
                    HostName = "node-" + random.Next(3),
                },
                Dst = new KubernetesMetadata
                {
                    Namespace = namespaces[random.Next(namespaces.Length)],
                    Name = names[random.Next(names.Length)],
                    OwnerName = "db",
                    OwnerType = "Deployment",
                    Type = types[random.Next(types.Length)],
                    HostName = "node-" + random.Next(3),
                },
            });
        }

        return flows;
    }

    public async Task InitializeAsync()
    {
        if (await PushFlowRows.CountAsync(fixture.Server.ConnectionString, Tenant) > 0)
        {
            return;
        }

        await fixture.PushFlpAsync(s_flows, Tenant, s_flows.Count);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<JsonElement> QueryRangeAsync(string query, string parameters)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(
            $"/loki/api/v1/query_range?query={Uri.EscapeDataString(query)}&{parameters}", UriKind.Relative));
        request.Headers.Add("X-Scope-OrgID", Tenant);
        using var response = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("data").Clone();
    }

    private static string Ns(long ms) => (ms * 1_000_000).ToString(CultureInfo.InvariantCulture);

    private static string Field(FlowRecord r, string name) => name switch
    {
        "SrcK8S_Namespace" => r.Src.Namespace ?? "",
        "DstK8S_Namespace" => r.Dst.Namespace ?? "",
        "SrcK8S_HostName" => r.Src.HostName ?? "",
        "DstK8S_HostName" => r.Dst.HostName ?? "",
        "DstPort" => r.DstPort?.ToString(CultureInfo.InvariantCulture) ?? "",
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    // ------------------------------------------------------------------------------------ flow table

    public static TheoryData<string, string> FlowTableQueries => new()
    {
        // server_flows_test.go, "Several filters", "OR IP filters", "NOT IP filters", "IP filter"
        { "{0},SrcK8S_Namespace=\"default\"}}|~`SrcPort\":8080[,}}]`|json|SrcAddr=ip(\"10.128.0.1\")", "several" },
        { "{0}}}|json|SrcAddr=ip(\"10.128.0.1\") or SrcAddr=ip(\"10.128.0.2\")", "or-ip" },
        { "{0}}}|json|SrcAddr!=ip(\"10.128.0.1\")|SrcAddr!=ip(\"10.128.0.2\")", "not-ip" },
        { "{0}}}|json|SrcAddr=ip(\"fd00::/126\")", "ipv6-cidr" },
        { "{0}}}|json|DstAddr=ip(\"10.129.0.5-10.129.1.20\")", "ip-range" },
        // "Multiple values", the equal-match form, and the partial case-insensitive form (MultiValuesRegexFilter)
        { "{0},SrcK8S_Namespace=~\"ns1|ns2\"}}", "ns1|ns2" },
        { "{0},SrcK8S_Namespace=~\"(?i).*ns1.*|(?i).*default.*\"}}", "contains ns1|default" },
        { "{0},SrcK8S_Namespace=~\"^ns1$|^ns2$\"}}", "ns1|ns2" },
        // "Regex", "Not regex", "Empty string", "Proto + name"
        { "{0}}}|~`SrcK8S_Name\":\"(?i)[^\"]*name1.*\"|SrcK8S_Name\":\"(?i)[^\"]*name2.*\"`", "name1|name2" },
        { "{0}}}|~`\"SrcK8S_Name\"`!~`SrcK8S_Name\":\"name1-abc\"`!~`SrcK8S_Name\":\"name2-x\"`", "not names" },
        { "{0}}}|~`DstPort\":70[,}}]`|json|SrcK8S_Name=\"\"", "port70 no-name" },
        { "{0},SrcK8S_Namespace=\"\"}}|~`DstPort\":70[,}}]`", "port70 no-ns" },
        { "{0}}}|~`Proto\":6[,}}]`|~`SrcK8S_Name\":\"(?i)[^\"]*TEST.*\"`", "tcp test" },
        { "{0},SrcK8S_Type=\"Pod\",DstK8S_Type=~\"^$|^Service$\"}}", "pod to service or out" },
    };

    private static bool FlowTableExpected(string name, FlowRecord r)
    {
        var a1 = IPAddress.Parse("10.128.0.1");
        var a2 = IPAddress.Parse("10.128.0.2");
        var srcName = r.Src.Name ?? "";
        return name switch
        {
            "several" => r.Src.Namespace == "default" && r.SrcPort == 8080 && a1.Equals(r.SrcAddr),
            "or-ip" => a1.Equals(r.SrcAddr) || a2.Equals(r.SrcAddr),
            "not-ip" => r.SrcAddr is not null && !a1.Equals(r.SrcAddr) && !a2.Equals(r.SrcAddr),
            "ipv6-cidr" => r.SrcAddr?.ToString() is "fd00::1" or "fd00::2" or "fd00::3",
            "ip-range" => r.DstAddr is { AddressFamily: System.Net.Sockets.AddressFamily.InterNetwork } d
                && (d.GetAddressBytes()[2] == 0 ? d.GetAddressBytes()[3] >= 5 : d.GetAddressBytes()[3] <= 20),
            "ns1|ns2" => r.Src.Namespace is "ns1" or "ns2",
            "contains ns1|default" => r.Src.Namespace is "ns1" or "default" or "NS1-front",
            "name1|name2" => srcName.StartsWith("name1", StringComparison.Ordinal) || srcName.StartsWith("name2", StringComparison.Ordinal),
            "not names" => r.Src.Name is not null and not "name1-abc" and not "name2-x",
            "port70 no-name" => r.DstPort == 70 && r.Src.Name is null,
            "port70 no-ns" => r.DstPort == 70 && r.Src.Namespace is null,
            "tcp test" => r.Proto == 6 && srcName.Contains("test", StringComparison.Ordinal),
            "pod to service or out" => r.Src.Type == "Pod" && r.Dst.Type is null or "Service",
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };
    }

    [Theory]
    [MemberData(nameof(FlowTableQueries))]
    public async Task FlowTable_PluginQuery_ReturnsExactlyTheMatchingFlows(string template, string name)
    {
        var query = string.Format(CultureInfo.InvariantCulture, template, App);
        var expected = s_flows.Where(r => FlowTableExpected(name, r)).Select(r => r.TimeFlowEndMs).Order().ToList();
        Assert.NotEmpty(expected);

        var data = await QueryRangeAsync(query, $"start={Ns(s_originMs)}&end={Ns(s_originMs + 3_600_000)}&limit=1000");

        Assert.Equal("streams", data.GetProperty("resultType").GetString());
        var returned = data.GetProperty("result").EnumerateArray()
            .SelectMany(s => s.GetProperty("values").EnumerateArray())
            .Select(v => long.Parse(v[0].GetString()!, CultureInfo.InvariantCulture) / 1_000_000).Order().ToList();
        Assert.Equal(expected, returned);
    }

    // ------------------------------------------------------------------------------------ topology

    private sealed record Topology(string Query, string[] Labels, Func<FlowRecord, double?> Value, string Function,
        long RangeMs, double Factor = 1);

    private static readonly Dictionary<string, Topology> s_topology = new(StringComparer.Ordinal)
    {
        // topology_query_test.go, TestBuildTopologyQuery_SimpleAggregate (step 10s, rateInterval 2m)
        ["namespace-rate"] = new(
            "topk(50,sum by(SrcK8S_Namespace,DstK8S_Namespace)(rate({app=\"netobserv-flowcollector\"}|json|unwrap Bytes|__error__=\"\"[2m])))",
            ["SrcK8S_Namespace", "DstK8S_Namespace"], r => r.Bytes, "rate", 120_000),
        // server_test.go, the reporter de-duplication pair
        ["dedup-ingress"] = new(
            "topk(100,sum by(SrcK8S_Namespace,DstK8S_Namespace)(rate({app=\"netobserv-flowcollector\",FlowDirection=~\"^0$|^2$\"}|json|unwrap Bytes|__error__=\"\"[1m])))",
            ["SrcK8S_Namespace", "DstK8S_Namespace"], r => r.FlowDirection is 0 or 2 ? r.Bytes : null, "rate", 60_000),
        ["dedup-egress"] = new(
            "topk(100,sum by(SrcK8S_Namespace,DstK8S_Namespace)(rate({app=\"netobserv-flowcollector\",FlowDirection=\"1\",DstK8S_Type=~\"^$|^Service$\"}|json|unwrap Bytes|__error__=\"\"[1m])))",
            ["SrcK8S_Namespace", "DstK8S_Namespace"],
            r => r.FlowDirection == 1 && r.Dst.Type is null or "Service" ? r.Bytes : null, "rate", 60_000),
        // TestBuildTopologyQuery_CustomAggregate, on a field flows carry
        ["custom-field"] = new(
            "topk(50,sum by(DstPort)(rate({app=\"netobserv-flowcollector\"}|~`\"DstPort\"`|json|unwrap Bytes|__error__=\"\"[2m])))",
            ["DstPort"], r => r.Bytes, "rate", 120_000),
        // host scope, flow count
        ["host-count"] = new(
            "topk(50,sum by(SrcK8S_HostName,DstK8S_HostName)(count_over_time({app=\"netobserv-flowcollector\"}[30s])))",
            ["SrcK8S_HostName", "DstK8S_HostName"], _ => 1, "sum", 30_000),
        ["drops-sum"] = new(
            "topk(50,sum by(SrcK8S_Namespace,DstK8S_Namespace)(sum_over_time({app=\"netobserv-flowcollector\"}|json|unwrap PktDropPackets|__error__=\"\"[30s])))",
            ["SrcK8S_Namespace", "DstK8S_Namespace"], r => r.PktDropPackets, "sum", 30_000),
        ["rtt-max"] = new(
            "topk(50,(max_over_time({app=\"netobserv-flowcollector\"}|~`\"TimeFlowRttNs\"`|json|unwrap TimeFlowRttNs|__error__=\"\"[30s]) by(SrcK8S_Namespace,DstK8S_Namespace))/1000000)",
            ["SrcK8S_Namespace", "DstK8S_Namespace"], r => r.TimeFlowRttNs, "max", 30_000, 1_000_000),
        ["rtt-min"] = new(
            "bottomk(50,(min_over_time({app=\"netobserv-flowcollector\"}|~`\"TimeFlowRttNs\"`|json|unwrap TimeFlowRttNs|__error__=\"\"[30s]) by(SrcK8S_Namespace,DstK8S_Namespace))/1000000)",
            ["SrcK8S_Namespace", "DstK8S_Namespace"], r => r.TimeFlowRttNs, "min", 30_000, 1_000_000),
        ["dns-p90"] = new(
            "topk(50,(quantile_over_time(0.9,{app=\"netobserv-flowcollector\"}|~`\"DnsLatencyMs`!~`\"DnsLatencyMs\":0[,}]`|json|unwrap DnsLatencyMs|__error__=\"\"[30s]) by(SrcK8S_Namespace,DstK8S_Namespace)))",
            ["SrcK8S_Namespace", "DstK8S_Namespace"], r => r.DnsLatencyMs is > 0 ? r.DnsLatencyMs : null, "p90", 30_000),
        ["dns-avg"] = new(
            "topk(50,(avg_over_time({app=\"netobserv-flowcollector\"}|~`\"DnsLatencyMs`!~`\"DnsLatencyMs\":0[,}]`|json|unwrap DnsLatencyMs|__error__=\"\"[30s]) by(SrcK8S_Namespace,DstK8S_Namespace)))",
            ["SrcK8S_Namespace", "DstK8S_Namespace"], r => r.DnsLatencyMs is > 0 ? r.DnsLatencyMs : null, "avg", 30_000),
    };

    public static TheoryData<string, long, long> TopologyCases()
    {
        var data = new TheoryData<string, long, long>();
        foreach (var name in s_topology.Keys)
        {
            var step = name is "namespace-rate" or "custom-field" ? 10_000L : 30_000L;
            data.Add(name, 0, step);          // aligned start
            data.Add(name, 1_234_567, step);  // the console's now - N: any millisecond
        }

        return data;
    }

    private static double? Aggregate(string function, List<double> values, double seconds) => values.Count == 0 ? null : function switch
    {
        "rate" => values.Sum() / seconds,
        "sum" => values.Sum(),
        "max" => values.Max(),
        "min" => values.Min(),
        "avg" => values.Average(),
        _ => Quantile(0.9, values),
    };

    private static double Quantile(double phi, List<double> values)
    {
        var sorted = values.Order().ToList();
        var rank = phi * (sorted.Count - 1);
        var lower = (int)Math.Floor(rank);
        var upper = Math.Min(sorted.Count - 1, lower + 1);
        return (sorted[lower] * (1 - (rank - lower))) + (sorted[upper] * (rank - lower));
    }

    [Theory]
    [MemberData(nameof(TopologyCases))]
    public async Task Topology_PluginQuery_MatchesTheFlows(string name, long offsetMs, long stepMs)
    {
        var t = s_topology[name];
        var start = s_originMs + offsetMs;
        var end = start + (35 * 60_000);
        var count = (int)((end - start) / stepMs) + 1;

        var data = await QueryRangeAsync(t.Query, $"start={Ns(start)}&end={Ns(end)}&step={stepMs / 1000}s&limit=100");

        var expected = new Dictionary<string, double?[]>(StringComparer.Ordinal);
        for (var k = 0; k < count; k++)
        {
            var at = start + (k * stepMs);
            foreach (var group in s_flows.Where(r => t.Value(r) is not null && r.TimeFlowEndMs > at - t.RangeMs && r.TimeFlowEndMs <= at)
                .GroupBy(r => string.Join("|", t.Labels.Select(l => Field(r, l)))))
            {
                if (!expected.TryGetValue(group.Key, out var values))
                {
                    expected[group.Key] = values = new double?[count];
                }

                values[k] = Aggregate(t.Function, group.Select(r => t.Value(r)!.Value).ToList(), t.RangeMs / 1000.0) / t.Factor;
            }
        }

        Assert.Equal("matrix", data.GetProperty("resultType").GetString());
        Assert.True(expected.Count > 1 && expected.Values.Sum(v => v.Count(x => x is not null)) > 10,
            $"{name}: too few expected points");
        var actual = new Dictionary<string, double?[]>(StringComparer.Ordinal);
        foreach (var series in data.GetProperty("result").EnumerateArray())
        {
            var metric = series.GetProperty("metric");
            var key = string.Join("|", t.Labels.Select(l => metric.TryGetProperty(l, out var v) ? v.GetString() : ""));
            var values = new double?[count];
            foreach (var point in series.GetProperty("values").EnumerateArray())
            {
                var ts = (long)(point[0].GetDouble() * 1000);
                values[(ts - start) / stepMs] = double.Parse(point[1].GetString()!, CultureInfo.InvariantCulture);
            }

            actual[key] = values;
        }

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), actual.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, want) in expected)
        {
            for (var k = 0; k < count; k++)
            {
                Assert.True(want[k].HasValue == actual[key][k].HasValue, $"{name} {key} point {k}: {want[k]} vs {actual[key][k]}");
                if (want[k] is { } w)
                {
                    Assert.True(Math.Abs(w - actual[key][k]!.Value) <= 1e-9 * Math.Max(1, Math.Abs(w)),
                        $"{name} {key} point {k}: expected {w}, got {actual[key][k]}");
                }
            }
        }
    }
}
