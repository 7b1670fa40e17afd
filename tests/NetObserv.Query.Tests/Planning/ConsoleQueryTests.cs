using System.Net;
using NetObserv.Flows;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.Planning;

/// <summary>
/// Query forms the NetObserv console plugin sends (its Go tests' expected LogQL), run on known flows and
/// checked against counts and sums computed here from the same records.
/// </summary>
public sealed class ConsoleQueryTests : IClassFixture<ConsoleDataFixture>
{
    private const string App = "app=\"netobserv-flowcollector\"";
    private readonly ConsoleDataFixture _data;

    public ConsoleQueryTests(ConsoleDataFixture data)
    {
        _data = data;
    }

    private static long Ms(int minutes) => TestFlows.OriginMs + (minutes * 60_000L);

    private static QueryRequest Range(string query, long startMs, long stepMs, int count, int limit = 100) =>
        new(query, startMs * 1_000_000, (startMs + ((count - 1) * stepMs)) * 1_000_000, stepMs, limit, false, false,
            new FlowAccess([FlowRecord.DefaultTenant]));

    private async Task<QueryResult> RunAsync(QueryRequest request) =>
        await _data.Engine().ExecuteAsync(request, QueryEngine.Parse(request.Query), CancellationToken.None)
            .DefaultTimeout();

    private IEnumerable<FlowRecord> Default => _data.Records.Where(r => r.Tenant == FlowRecord.DefaultTenant);

    /// <summary>The total of one series over one window of the whole data (a 40-minute step holding it all).</summary>
    private async Task<double> TotalAsync(string query)
    {
        var result = Assert.IsType<MatrixResult>(await RunAsync(Range(query, Ms(35), 2_400_000, 1)));
        return result.Series.Count == 0 ? 0 : Assert.Single(result.Series).Values[0] ?? 0;
    }

    [Theory]
    [InlineData("SrcK8S_Namespace=~\"(?i).*NS-A.*\"")]
    [InlineData("SrcK8S_Namespace=~\"ns1|(?i).*NS-A.*\"")]
    [InlineData("SrcK8S_Namespace=~\"n(?i)S-A\"")]
    [InlineData("SrcK8S_Namespace=~\"(?i:NS)-a\"")]
    [InlineData("SrcK8S_Namespace=~\"\\\\w\\\\w-[a[:digit:]]\"")]
    public async Task RegexWithFlagsInside_StreamMatcherAndLabelFilter_CountLikeRe2(string matcher)
    {
        var expected = Default.Count(r => r.Src.Namespace == "ns-a");

        var selector = await TotalAsync($"sum(count_over_time({{{App},{matcher}}}[40m]))");
        var filter = await TotalAsync($"sum(count_over_time({{{App}}}|json|{matcher}[40m]))");

        Assert.Equal(expected, selector);
        Assert.Equal(expected, filter);
    }

    [Fact]
    public async Task RegexWithFlagsInside_LogQuery_ReturnsTheMatchingLines()
    {
        var request = new QueryRequest($"{{{App},SrcK8S_Namespace=~\"(?i).*NS-A.*\"}}", Ms(0) * 1_000_000, Ms(40) * 1_000_000,
            0, 5_000, false, false, new FlowAccess([FlowRecord.DefaultTenant]));

        var result = Assert.IsType<StreamsResult>(await RunAsync(request));

        Assert.Equal(Default.Count(r => r.Src.Namespace == "ns-a"), result.Streams.Sum(s => s.Entries.Count));
    }

    [Theory]
    [InlineData("SrcK8S_Namespace=~\"\\\\pL\"")]
    [InlineData("SrcK8S_Namespace=~\"(?=a)\"")]
    [InlineData("SrcK8S_Namespace=~\"a{1001}\"")]
    public async Task RegexNotRe2_IsAClientError(string matcher)
    {
        var ex = await Assert.ThrowsAsync<QueryException>(() => RunAsync(
            Range($"sum(count_over_time({{{App},{matcher}}}[40m]))", Ms(35), 2_400_000, 1)));

        Assert.Contains("regular expression", ex.Message, StringComparison.Ordinal);
    }

    private static bool In(IPAddress? address, string value) =>
        address is not null && IpFilterValue.Parse(value)!.Contains(address);

    [Theory]
    [InlineData("SrcAddr", "10.0.0.17")]
    [InlineData("SrcAddr", "10.0.0.0/28")]
    [InlineData("SrcAddr", "10.0.0.77/26")]
    [InlineData("DstAddr", "10.1.0.10-10.1.0.120")]
    [InlineData("SrcAddr", "fd00::8")]
    [InlineData("SrcAddr", "fd00::/120")]
    [InlineData("DstAddr", "fd01::10-fd01::40")]
    [InlineData("DstAddr", "0.0.0.0/0")]
    [InlineData("DstAddr", "::/0")]
    public async Task IpFilter_EqualAndNotEqual_CountLikeLoki(string field, string value)
    {
        Func<FlowRecord, IPAddress?> get = field == "SrcAddr" ? r => r.SrcAddr : r => r.DstAddr;
        var inside = Default.Count(r => In(get(r), value));
        var outside = Default.Count(r => get(r) is not null && !In(get(r), value));
        Assert.True(inside > 0 && outside > 0);

        var equal = await TotalAsync($"sum(count_over_time({{{App}}}|json|{field}=ip(\"{value}\")[40m]))");
        var notEqual = await TotalAsync($"sum(count_over_time({{{App}}}|json|{field}!=ip(\"{value}\")[40m]))");

        Assert.Equal(inside, equal);
        Assert.Equal(outside, notEqual);
    }

    [Fact]
    public async Task IpFilter_OrGroupAndAndChain_AsThePluginWritesThem()
    {
        // "OR IP filters" and "NOT IP filters" of the plugin's server_flows_test.go, with a label filter before.
        var a = Default.First(r => r.SrcAddr?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).SrcAddr!;
        var b = Default.First(r => r.SrcAddr?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).SrcAddr!;
        var or = $"{{{App},SrcK8S_Namespace=\"ns-a\"}}|json|SrcAddr=ip(\"{a}\") or SrcAddr=ip(\"{b}\")";
        var not = $"{{{App},SrcK8S_Namespace=\"ns-a\"}}|json|SrcAddr!=ip(\"{a}\")|SrcAddr!=ip(\"{b}\")";
        var nsA = Default.Where(r => r.Src.Namespace == "ns-a").ToList();

        Assert.Equal(nsA.Count(r => a.Equals(r.SrcAddr) || b.Equals(r.SrcAddr)),
            await TotalAsync($"sum(count_over_time({or}[40m]))"));
        Assert.Equal(nsA.Count(r => r.SrcAddr is not null && !a.Equals(r.SrcAddr) && !b.Equals(r.SrcAddr)),
            await TotalAsync($"sum(count_over_time({not}[40m]))"));

        var logs = new QueryRequest(or, Ms(0) * 1_000_000, Ms(40) * 1_000_000, 0, 5_000, false, false,
            new FlowAccess([FlowRecord.DefaultTenant]));
        var streams = Assert.IsType<StreamsResult>(await RunAsync(logs));
        Assert.Equal(nsA.Count(r => a.Equals(r.SrcAddr) || b.Equals(r.SrcAddr)), streams.Streams.Sum(s => s.Entries.Count));
    }

    [Fact]
    public async Task IpFilter_AbsentField_NeverMatches()
    {
        Assert.Contains(Default, r => r.SrcAddr is null);

        var notEqual = await TotalAsync($"sum(count_over_time({{{App}}}|json|AgentIP!=ip(\"10.0.0.1\")[40m]))");
        var unknown = await TotalAsync($"sum(count_over_time({{{App}}}|json|NoSuchField!=ip(\"10.0.0.1\")[40m]))");
        var name = await TotalAsync($"sum(count_over_time({{{App}}}|json|SrcK8S_Name=ip(\"10.0.0.1\")[40m]))");

        Assert.Equal(0, notEqual);
        Assert.Equal(0, unknown);
        Assert.Equal(0, name);
    }

    [Theory]
    [InlineData("10.0.0")]
    [InlineData("10.0.0.1/33")]
    [InlineData("10.0.0.9-10.0.0.1")]
    [InlineData("10.0.0.1-fd00::1")]
    [InlineData("name")]
    public void IpFilter_InvalidValue_IsAParseError(string value) =>
        Assert.Throws<QueryException>(() => QueryEngine.Parse($"{{{App}}}|json|SrcAddr=ip(\"{value}\")"));

    [Fact]
    public void IpFilter_CompiledToSqlOnInet_ValuesAsParameters()
    {
        var plan = new MetricPlanner(["app"], new EvaluationGrid(Ms(40), 60_000, 1), 0, new FlowAccess(["default"]))
            .Plan(LogQLParser.Parse($"sum(count_over_time({{{App}}}|json|SrcAddr=ip(\"10.0.0.0/8\") or DstAddr!=ip(\"fd00::1-fd00::9\")[1m]))"));

        Assert.Contains("src_addr <<= $", plan.Sql, StringComparison.Ordinal);
        Assert.Contains("dst_addr BETWEEN $", plan.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("10.0.0", plan.Sql, StringComparison.Ordinal);
        Assert.Empty(plan.LineFilterLeaves);
    }

    private static double? Aggregate(string function, List<(long Time, double Value)> samples)
    {
        if (samples.Count == 0)
        {
            return null;
        }

        var values = samples.Select(x => x.Value).Order().ToList();
        var mean = values.Average();
        var variance = values.Sum(v => (v - mean) * (v - mean)) / values.Count;
        double Quantile(double phi)
        {
            var rank = phi * (values.Count - 1);
            var lower = (int)Math.Floor(rank);
            var upper = Math.Min(values.Count - 1, lower + 1);
            return (values[lower] * (1 - (rank - lower))) + (values[upper] * (rank - lower));
        }

        return function switch
        {
            "avg" => mean,
            "min" => values[0],
            "max" => values[^1],
            "p90" => Quantile(0.9),
            "p99" => Quantile(0.99),
            "p50" => Quantile(0.5),
            "stddev" => Math.Sqrt(variance),
            "stdvar" => variance,
            "first" => samples.MinBy(x => x.Time).Value,
            _ => samples.MaxBy(x => x.Time).Value,
        };
    }

    private static string Call(string function, string inner) => function switch
    {
        "p90" => $"quantile_over_time(0.9,{inner}",
        "p99" => $"quantile_over_time(0.99,{inner}",
        _ => $"{function}_over_time({inner}",
    };

    /// <summary>
    /// The topology query the plugin builds for a per-flow field (<c>TopologyQueryBuilder.Build</c>, function
    /// not in sum-by form): the line filters it adds for the field, <c>| unwrap</c>, the range after the
    /// function, <c>by</c> after it, the factor inside <c>topk</c>.
    /// </summary>
    private static string TopologyQuery(string function, string field, string range)
    {
        var lineFilters = field switch
        {
            "TimeFlowRttNs" => "|~`\"TimeFlowRttNs\"`",
            "DnsLatencyMs" => "|~`\"DnsLatencyMs`!~`\"DnsLatencyMs\":0[,}]`",
            _ => "",
        };
        var factor = field == "TimeFlowRttNs" ? "/1000000" : "";
        var top = function == "min" ? "bottomk" : "topk";
        return $"{top}(50,({Call(function, $"{{{App}}}{lineFilters}|json|unwrap {field}|__error__=\"\"[{range}])")} "
            + $"by(SrcK8S_Namespace,DstK8S_Namespace)){factor})";
    }

    [Theory]
    [InlineData("avg", "TimeFlowRttNs")]
    [InlineData("min", "TimeFlowRttNs")]
    [InlineData("max", "TimeFlowRttNs")]
    [InlineData("p90", "TimeFlowRttNs")]
    [InlineData("p99", "TimeFlowRttNs")]
    [InlineData("avg", "DnsLatencyMs")]
    [InlineData("max", "DnsLatencyMs")]
    [InlineData("p90", "DnsLatencyMs")]
    [InlineData("stddev", "DnsLatencyMs")]
    [InlineData("stdvar", "PktDropPackets")]
    [InlineData("first", "PktDropPackets")]
    [InlineData("last", "PktDropPackets")]
    [InlineData("max", "PktDropPackets")]
    public async Task UnwrappedRangeAggregation_TopologyQuery_MatchesTheRecords(string function, string field)
    {
        Func<FlowRecord, double?> get = field switch
        {
            "TimeFlowRttNs" => r => r.TimeFlowRttNs,
            "DnsLatencyMs" => r => r.DnsLatencyMs is > 0 ? r.DnsLatencyMs : null,
            _ => r => r.PktDropPackets,
        };
        var factor = field == "TimeFlowRttNs" ? 1_000_000.0 : 1;

        // Range equal to the step (what the plugin sends), and overlapping windows from an unaligned start.
        foreach (var (start, step, range, count) in new[] { (Ms(5), 300_000L, "5m", 7), (Ms(7) + 12_345, 60_000L, "5m", 25) })
        {
            var result = Assert.IsType<MatrixResult>(await RunAsync(Range(TopologyQuery(function, field, range), start, step, count)));

            var rangeMs = 300_000L;
            var expected = new Dictionary<string, double?[]>(StringComparer.Ordinal);
            for (var k = 0; k < count; k++)
            {
                var t = start + (k * step);
                foreach (var group in Default.Where(r => get(r) is not null && r.TimeFlowEndMs > t - rangeMs && r.TimeFlowEndMs <= t)
                    .GroupBy(r => (r.Src.Namespace ?? "") + "->" + (r.Dst.Namespace ?? "")))
                {
                    if (!expected.TryGetValue(group.Key, out var values))
                    {
                        expected[group.Key] = values = new double?[count];
                    }

                    values[k] = Aggregate(function, group.Select(r => (r.TimeFlowEndMs, get(r)!.Value)).ToList()) / factor;
                }
            }

            Assert.Equal(expected.Keys.Order(StringComparer.Ordinal),
                result.Series.Select(s => Key(s.Labels)).Order(StringComparer.Ordinal));
            foreach (var series in result.Series)
            {
                var want = expected[Key(series.Labels)];
                for (var k = 0; k < count; k++)
                {
                    Assert.Equal(want[k].HasValue, series.Values[k].HasValue);
                    if (want[k] is { } w)
                    {
                        Assert.True(Math.Abs(w - series.Values[k]!.Value) <= 1e-9 * Math.Max(1, Math.Abs(w)),
                            $"{function}({field}) at {k} for {Key(series.Labels)}: expected {w}, got {series.Values[k]}");
                    }
                }
            }
        }

        static string Key(LabelSet labels) =>
            (labels.Get("SrcK8S_Namespace") ?? "") + "->" + (labels.Get("DstK8S_Namespace") ?? "");
    }

    [Theory]
    [InlineData("quantile_over_time(0.5, {0}[10m]) by (SrcK8S_Namespace)")]
    [InlineData("max by (SrcK8S_Namespace) (quantile_over_time(0.5, {0}[10m]) by (SrcK8S_Namespace))")]
    [InlineData("quantile_over_time(0.5, {0}[10m]) without (DstK8S_Namespace, DstK8S_OwnerName, SrcK8S_OwnerName, FlowDirection, K8S_FlowLayer, _RecordType, app)")]
    public async Task Quantile_ByInsideOrOutsideOrWithout_GroupsTheSamples(string template)
    {
        var query = string.Format(System.Globalization.CultureInfo.InvariantCulture, template,
            $"{{{App}}}|json|unwrap Bytes");

        var result = Assert.IsType<MatrixResult>(await RunAsync(Range(query, Ms(25), 600_000, 1)));

        Assert.Equal(Default.Select(r => r.Src.Namespace ?? "").Distinct().Count(), result.Series.Count);
        foreach (var series in result.Series)
        {
            var ns = series.Labels.Get("SrcK8S_Namespace") ?? "";
            var samples = Default.Where(r => (r.Src.Namespace ?? "") == ns && r.TimeFlowEndMs > Ms(15) && r.TimeFlowEndMs <= Ms(25))
                .Select(r => (r.TimeFlowEndMs, (double)r.Bytes)).ToList();
            Assert.Equal(Aggregate("p50", samples) ?? 0, series.Values[0]!.Value, 6);
        }
    }

    [Fact]
    public async Task StreamLabels_IncludeTheK8STypesAsFlowlogsPipelineSetsThem()
    {
        var request = new QueryRequest($"{{{App},SrcK8S_Type=\"Pod\",DstK8S_Type=~\"Pod|Service\"}}", Ms(0) * 1_000_000,
            Ms(40) * 1_000_000, 0, 5_000, false, false, new FlowAccess([FlowRecord.DefaultTenant]));

        var result = Assert.IsType<StreamsResult>(await RunAsync(request));
        var series = await _data.Engine().SeriesAsync([], Ms(0) * 1_000_000, Ms(40) * 1_000_000, new FlowAccess([FlowRecord.DefaultTenant]),
            CancellationToken.None).DefaultTimeout();

        Assert.Equal(Default.Count(r => r.Src.Type == "Pod"), result.Streams.Sum(s => s.Entries.Count));
        Assert.All(result.Streams, s => Assert.Equal("Pod", s.Labels.Get("SrcK8S_Type")));
        Assert.All(result.Streams, s => Assert.Equal("Pod", s.Labels.Get("DstK8S_Type")));
        Assert.Contains(series, s => s.Get("SrcK8S_Type") == "Pod");
        Assert.Contains(series, s => s.Get("SrcK8S_Type") is null or "");
    }

    private static PlanSource SourceOf(string query, long startMs, long stepMs, int count) =>
        Assert.Single(new MetricPlanner(["app"], new EvaluationGrid(startMs, stepMs, count), (count - 1) * stepMs, new FlowAccess(["default"]))
            .Plan(LogQLParser.Parse(query)).Leaves).Source;

    [Theory]
    [InlineData(0, 60_000, "1m", "Rollup1m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(0, 600_000, "10m", "Rollup10m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(0, 300_000, "10m", "Rollup5m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(60_000, 600_000, "10m", "Rollup1m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(17_000, 60_000, "1m", "Flows", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(3_600_123, 600_000, "10m", "Rollup1m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(-1, 300_000, "5m", "Rollup1m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(17_000, 600_000, "10m", "Rollup1m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(61_500, 1_200_000, "20m", "Rollup5m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(-7_000, 120_000, "10m", "Flows", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(29_999, 1_200_000, "40m", "Rollup10m", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(17_000, 600_000, "10m", "Rollup1m", 0)]
    [InlineData(3_600_123, 300_000, "20m", "Rollup1m", 0)]
    [InlineData(61_500, 1_200_000, "20m", "Rollup5m", 0)]
    [InlineData(0, 600_000, "10m", "Rollup10m", 0)]
    [InlineData(17_000, 300_000, "1m", "Flows", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(-7_000, 600_000, "2m", "Flows", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(3_600_123, 300_000, "90s", "Flows", MetricPlanner.DefaultMaxProbedEdges)]
    [InlineData(0, 300_000, "1m", "Rollup1m", MetricPlanner.DefaultMaxProbedEdges)]
    public async Task Windows_AnyStart_EqualTheFlowsPathAndTheRecords(long offsetMs, long stepMs, string range, string source,
        int maxProbedEdges)
    {
        // Past MetricPlanner.DefaultMaxProbedEdges edge buckets, one scan of the range reads them (forced by 0).
        // A range shorter than the step leaves gaps between the windows, which the flows path does not read.
        await AssertWindowsAsync(offsetMs, stepMs, range, source, maxProbedEdges);
    }

    private async Task AssertWindowsAsync(long offsetMs, long stepMs, string range, string source, int maxProbedEdges)
    {
        // The console's relative ranges start at now - 3600 s: any second (here: any millisecond too).
        var start = Ms(0) + offsetMs;
        var count = (int)((35 * 60_000) / stepMs);
        Assert.True(LogQLDuration.TryParse(range, out var rangeSpan));
        var rangeMs = (long)rangeSpan.TotalMilliseconds;
        var rollup = $"sum by (SrcK8S_Namespace) (sum_over_time({{{App}}}|json|unwrap Bytes|__error__=\"\"[{range}]))";
        var flows = $"sum by (SrcK8S_Namespace) (sum_over_time({{{App}}}|json|Proto>=0|unwrap Bytes|__error__=\"\"[{range}]))";
        var counts = $"sum by (DstK8S_Namespace) (count_over_time({{{App}}}[{range}]))";
        Assert.Contains(Default, r => r.TimeFlowEndMs % 600_000 == 0);
        Assert.Equal(Enum.Parse<PlanSource>(source), SourceOf(rollup, start, stepMs, count));
        Assert.Equal(PlanSource.Flows, SourceOf(flows, start, stepMs, count));

        var engine = new QueryEngine(_data.Database.DataSource, Microsoft.Extensions.Options.Options.Create(new QueryOptions()))
        {
            MaxProbedEdges = maxProbedEdges,
        };
        async Task<MatrixResult> Run(string query) => Assert.IsType<MatrixResult>(await engine
            .ExecuteAsync(Range(query, start, stepMs, count), QueryEngine.Parse(query), CancellationToken.None).DefaultTimeout());
        var fromRollup = await Run(rollup);
        var fromFlows = await Run(flows);
        var countResult = await Run(counts);

        var bytes = TestFlows.Expected(Default, start, stepMs, count, rangeMs, r => r.Src.Namespace ?? "", r => r.Bytes,
            perSecond: false);
        var flowCounts = TestFlows.Expected(Default, start, stepMs, count, rangeMs, r => r.Dst.Namespace ?? "", _ => 1,
            perSecond: false);
        AssertSeries(bytes, fromRollup, "SrcK8S_Namespace");
        AssertSeries(bytes, fromFlows, "SrcK8S_Namespace");
        AssertSeries(flowCounts, countResult, "DstK8S_Namespace");
    }

    private static void AssertSeries(Dictionary<string, double?[]> expected, MatrixResult result, string label)
    {
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal),
            result.Series.Select(s => s.Labels.Get(label) ?? "").Order(StringComparer.Ordinal));
        foreach (var series in result.Series)
        {
            Assert.Equal(expected[series.Labels.Get(label) ?? ""], series.Values);
        }
    }

    [Fact]
    public async Task Windows_ExactWindowsOff_UnalignedStartReadsTheRollupShifted()
    {
        var query = $"sum by (SrcK8S_Namespace) (sum_over_time({{{App}}}|json|unwrap Bytes|__error__=\"\"[1m]))";
        var grid = new EvaluationGrid(Ms(0) + 17_000, 60_000, 35);
        PlanSource Source(bool exact) => Assert.Single(new MetricPlanner(["app"], grid, 34 * 60_000, new FlowAccess(["default"]),
            exactWindows: exact).Plan(LogQLParser.Parse(query)).Leaves).Source;

        var shifted = Assert.IsType<MatrixResult>(await _data.Engine(new QueryOptions { ExactWindows = false })
            .ExecuteAsync(Range(query, Ms(0) + 17_000, 60_000, 35), QueryEngine.Parse(query), CancellationToken.None)
            .DefaultTimeout());

        Assert.Equal(PlanSource.Flows, Source(exact: true));
        Assert.Equal(PlanSource.Rollup1m, Source(exact: false));
        Assert.Equal(Default.Where(r => r.TimeFlowEndMs <= Ms(34) + 17_000).Sum(r => r.Bytes),
            shifted.Series.Sum(s => s.Values.Sum(v => v ?? 0)));
    }
}
