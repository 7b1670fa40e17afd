using System.Globalization;
using System.Text.Json;
using NetObserv.Flows;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.Planning;

public sealed class QueryEngineTests : IClassFixture<QueryDataFixture>
{
    private const string App = "{app=\"netobserv-flowcollector\"}";
    private readonly QueryDataFixture _data;

    public QueryEngineTests(QueryDataFixture data)
    {
        _data = data;
    }

    private static long Ms(int minutes) => TestFlows.OriginMs + (minutes * 60_000L);

    private static QueryRequest Range(string query, long startMs, long stepMs, int count, string tenant = FlowRecord.DefaultTenant,
        int limit = 100, bool forward = false) =>
        new(query, startMs * 1_000_000, (startMs + ((count - 1) * stepMs)) * 1_000_000, stepMs, limit, forward, false,
            new FlowAccess([tenant]));

    private async Task<QueryResult> RunAsync(QueryRequest request, QueryOptions? options = null) =>
        await _data.Engine(options).ExecuteAsync(request, QueryEngine.Parse(request.Query), CancellationToken.None)
            .DefaultTimeout();

    private static PlanSource SourceOf(string query, long startMs, long stepMs, int count)
    {
        var grid = new EvaluationGrid(startMs, stepMs, count);
        var labels = new[] { "app", "SrcK8S_Namespace", "SrcK8S_OwnerName", "DstK8S_Namespace", "DstK8S_OwnerName",
            "FlowDirection", "K8S_FlowLayer", "_RecordType" };
        var plan = new MetricPlanner(labels, grid, (count - 1) * stepMs, new FlowAccess(["default"])).Plan(LogQLParser.Parse(query));
        return Assert.Single(plan.Leaves).Source;
    }

    private static void AssertMatrix(Dictionary<string, double?[]> expected, QueryResult result, Func<LabelSet, string> key)
    {
        var matrix = Assert.IsType<MatrixResult>(result);
        Assert.NotEmpty(expected);
        Assert.Contains(expected.Values, v => v.Any(x => x is not null));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), matrix.Series.Select(s => key(s.Labels)).Order(StringComparer.Ordinal));
        foreach (var series in matrix.Series)
        {
            var want = expected[key(series.Labels)];
            for (var k = 0; k < want.Length; k++)
            {
                if (want[k] is { } w)
                {
                    Assert.NotNull(series.Values[k]);
                    Assert.Equal(w, series.Values[k]!.Value, 6);
                }
                else
                {
                    Assert.Null(series.Values[k]);
                }
            }
        }
    }

    [Theory]
    [InlineData("", "Rollup1m")]
    [InlineData(" | Proto == 6", "Flows")]
    public async Task BytesRateBySourceNamespace_RollupAndRaw_MatchRecords(string extra, string source)
    {
        var query = $"sum by (SrcK8S_Namespace) (rate({App} | json{extra} | unwrap Bytes | __error__=\"\" [1m]))";
        Assert.Equal(Enum.Parse<PlanSource>(source), SourceOf(query, Ms(1), 60_000, 31));

        var result = await RunAsync(Range(query, Ms(1), 60_000, 31));

        var expected = TestFlows.Expected(_data.Records, Ms(1), 60_000, 31, 60_000, r => r.Src.Namespace ?? "",
            r => r.Bytes, perSecond: true);
        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
    }

    [Theory]
    [InlineData("", "Rollup1m")]
    [InlineData(" | Proto == 6", "Flows")]
    public async Task SampledBytesBySourceNamespace_RollupAndRaw_MatchRecords(string extra, string source)
    {
        var query = $"sum by (SrcK8S_Namespace) (sum_over_time({App} | json{extra} | unwrap SampledBytes [1m]))";
        Assert.Equal(Enum.Parse<PlanSource>(source), SourceOf(query, Ms(1), 60_000, 31));
        Assert.Contains(_data.Records, r => r.Sampling is > 1);

        var result = await RunAsync(Range(query, Ms(1), 60_000, 31));

        var expected = TestFlows.Expected(_data.Records, Ms(1), 60_000, 31, 60_000, r => r.Src.Namespace ?? "",
            r => r.SampledBytes, perSecond: false);
        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
    }

    [Theory]
    [InlineData(60_000, "Rollup1m")]
    [InlineData(30_000, "Flows")]
    public async Task FlowsRateByDestinationNamespace_OverlappingWindows_MatchRecords(long stepMs, string source)
    {
        var query = $"sum by (DstK8S_Namespace) (rate({App}[5m]))";
        var count = (int)(40 * 60_000 / stepMs);
        Assert.Equal(Enum.Parse<PlanSource>(source), SourceOf(query, Ms(0), stepMs, count));

        var result = await RunAsync(Range(query, Ms(0), stepMs, count));

        var expected = TestFlows.Expected(_data.Records, Ms(0), stepMs, count, 300_000, r => r.Dst.Namespace ?? "",
            _ => 1, perSecond: true);
        AssertMatrix(expected, result, l => l.Get("DstK8S_Namespace") ?? "");
    }

    [Theory]
    [InlineData(300_000, 300_000, "", "Rollup5m")]
    [InlineData(600_000, 600_000, "", "Rollup10m")]
    [InlineData(600_000, 1_200_000, "", "Rollup10m")]
    [InlineData(900_000, 900_000, "", "Rollup5m")]
    [InlineData(300_000, 600_000, "", "Rollup5m")]
    [InlineData(600_000, 600_000, " | Proto >= 0", "Flows")]
    [InlineData(600_000, 300_000, "", "Rollup5m")]
    [InlineData(600_000, 300_000, " | Proto >= 0", "Flows")]
    public async Task BytesRateBySourceNamespace_FiveAndTenMinuteLevelsAndGaps_MatchRecords(long stepMs, long rangeMs, string extra,
        string source)
    {
        var range = LogQLDuration.Format(TimeSpan.FromMilliseconds(rangeMs));
        var query = $"sum by (SrcK8S_Namespace) (rate({App} | json{extra} | unwrap Bytes | __error__=\"\" [{range}]))";
        var count = (int)(40 * 60_000 / stepMs);
        Assert.Equal(Enum.Parse<PlanSource>(source), SourceOf(query, Ms(0), stepMs, count));

        var result = await RunAsync(Range(query, Ms(0), stepMs, count));

        var expected = TestFlows.Expected(_data.Records, Ms(0), stepMs, count, rangeMs, r => r.Src.Namespace ?? "",
            r => r.Bytes, perSecond: true);
        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
    }

    [Theory]
    [InlineData("", "Rollup1h")]
    [InlineData(" | SrcPort > 0", "Flows")]
    public async Task FlowCountByWorkload_HourBuckets_MatchRecords(string extra, string source)
    {
        var query = $"sum by (SrcK8S_OwnerName, DstK8S_OwnerName) (count_over_time({App}{extra} [1h]))";
        Assert.Equal(Enum.Parse<PlanSource>(source), SourceOf(query, Ms(60), 3_600_000, 2));

        var result = await RunAsync(Range(query, Ms(60), 3_600_000, 2));

        var expected = TestFlows.Expected(_data.Records.Where(r => extra.Length == 0 || r.SrcPort > 0), Ms(60), 3_600_000, 2,
            3_600_000, r => (r.Src.OwnerName ?? "") + "->" + (r.Dst.OwnerName ?? ""), _ => 1, perSecond: false);
        AssertMatrix(expected, result, l => (l.Get("SrcK8S_OwnerName") ?? "") + "->" + (l.Get("DstK8S_OwnerName") ?? ""));
    }

    [Theory]
    [InlineData(".*")]
    [InlineData("(.*)")]
    public async Task RegexMatchingEverything_GrafanaAll_SameAsNoMatcherAndNoRegexInSql(string all)
    {
        var query = $"sum by (SrcK8S_Namespace) (count_over_time({{app=\"netobserv-flowcollector\", SrcK8S_Namespace=~\"{all}\", "
            + $"DstK8S_OwnerName=~\"{all}\"}} | Proto >= 0 [5m]))";
        var plan = new MetricPlanner(["app"], new EvaluationGrid(Ms(5), 300_000, 6), 25 * 60_000, new FlowAccess(["default"]))
            .Plan(LogQLParser.Parse(query));
        Assert.DoesNotContain("~", plan.Sql, StringComparison.Ordinal);

        var result = await RunAsync(Range(query, Ms(5), 300_000, 6));
        var none = await RunAsync(Range(query.Replace("!~", "=~", StringComparison.Ordinal)
            .Replace($"=~\"{all}\"", $"!~\"{all}\"", StringComparison.Ordinal), Ms(5), 300_000, 6));

        var expected = TestFlows.Expected(_data.Records, Ms(5), 300_000, 6, 300_000, r => r.Src.Namespace ?? "",
            _ => 1, perSecond: false);
        Assert.Contains("", expected.Keys);
        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
        Assert.Empty(Assert.IsType<MatrixResult>(none).Series);
    }

    [Fact]
    public async Task TopK_BytesBySourceNamespace_KeepsTheLargestPerStep()
    {
        var query = $"topk(2, sum by (SrcK8S_Namespace) (bytes_over_time({App}[10m])))";
        var result = await RunAsync(Range(query, Ms(10), 600_000, 3));

        var all = TestFlows.Expected(_data.Records, Ms(10), 600_000, 3, 600_000, r => r.Src.Namespace ?? "",
            r => r.Bytes, perSecond: false);
        var expected = all.ToDictionary(kv => kv.Key, _ => new double?[3]);
        for (var k = 0; k < 3; k++)
        {
            foreach (var (name, values) in all.Where(kv => kv.Value[k] is not null)
                .OrderByDescending(kv => kv.Value[k]).Take(2))
            {
                expected[name][k] = values[k];
            }
        }

        foreach (var empty in expected.Where(kv => kv.Value.All(v => v is null)).Select(kv => kv.Key).ToList())
        {
            expected.Remove(empty);
        }

        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
    }

    [Theory]
    [InlineData("=~", "ns-a|ns\\\\.d", "Rollup1m")]
    [InlineData("!~", "ns-a|ns\\\\.d", "Rollup1m")]
    [InlineData("=~", "ns-[ab]", "Rollup1m")]
    public async Task NamespaceRegexFilter_MultiValueVariable_SelectsMatchingNamespaces(string op, string regex,
        string source)
    {
        var query = RegexCountQuery("SrcK8S_Namespace", op, regex);
        Assert.Equal(Enum.Parse<PlanSource>(source), SourceOf(query, Ms(1), 60_000, 30));

        await AssertRegexFilterAsync(query, op, regex, r => r.Src.Namespace ?? "");
    }

    [Theory]
    [InlineData("FlowDirection", "=~", "^0$|^2$")]
    [InlineData("FlowDirection", "!~", "^0$|^2$")]
    [InlineData("FlowDirection", "=~", "1")]
    [InlineData("FlowDirection", "=~", "01|^1$")]
    [InlineData("FlowDirection", "!~", "01|-1")]
    [InlineData("FlowDirection", "!~", "01|00")]
    [InlineData("DstPort", "=~", "443|8080")]
    [InlineData("DstPort", "!~", "^443$")]
    [InlineData("DstPort", "=~", "4.3")]
    public async Task IntegerRegexFilter_LiteralAlternatives_MatchTheDecimalTextAsARegexWould(string field, string op,
        string regex)
    {
        // Literal alternatives on an integer field become = ANY of the integers whose text they are; the
        // answer must stay what the regex gives on the field's decimal text.
        Func<FlowRecord, long?> read = field == "DstPort" ? r => r.DstPort : r => r.FlowDirection;
        await AssertRegexFilterAsync(RegexCountQuery(field, op, regex), op, regex,
            r => read(r)?.ToString(CultureInfo.InvariantCulture) ?? "");
    }

    private static string RegexCountQuery(string field, string op, string regex) =>
        $"sum by (SrcK8S_Namespace) (count_over_time({{app=\"netobserv-flowcollector\", {field}{op}\"{regex}\"}}[1m]))";

    /// <summary>
    /// Runs a <see cref="RegexCountQuery"/> over 30 one-minute steps and compares it with the records whose
    /// <paramref name="text"/> .NET's regex matches (or not, for <c>!~</c>), counted per source namespace.
    /// </summary>
    private async Task AssertRegexFilterAsync(string query, string op, string regex, Func<FlowRecord, string> text)
    {
        var result = await RunAsync(Range(query, Ms(1), 60_000, 30));

        // The LogQL string's escaped backslash is one backslash in the regex.
        var pattern = new System.Text.RegularExpressions.Regex("^(?:" + regex.Replace("\\\\", "\\", StringComparison.Ordinal) + ")$");
        var selected = _data.Records.Where(r => pattern.IsMatch(text(r)) == (op == "=~"));
        var expected = TestFlows.Expected(selected, Ms(1), 60_000, 30, 60_000, r => r.Src.Namespace ?? "", _ => 1, false);
        Assert.NotEmpty(expected);
        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
    }

    [Theory]
    [InlineData("^0$|^2$", true, new[] { "0", "2" })]
    [InlineData("a|b\\.c", true, new[] { "a", "b.c" })]
    [InlineData("^ns-a$", true, new[] { "ns-a" })]
    [InlineData("a$b", false, new string[0])]
    [InlineData("a^b", false, new string[0])]
    [InlineData("^^a", false, new string[0])]
    [InlineData("a$$", false, new string[0])]
    [InlineData("ns-.*", false, new string[0])]
    public void TryLiteralAlternatives_AnchoredAlternatives_SplitOnlyWhenEveryPartIsALiteral(string pattern,
        bool literal, string[] expected)
    {
        Assert.Equal(literal, FilterCompiler.TryLiteralAlternatives(pattern, out var literals));
        if (literal)
        {
            Assert.Equal(expected, literals);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task LogQuery_LimitAndDirection_ReturnsTheNearestFlowsInOrder(bool forward)
    {
        var query = "{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-b\"} | json | DstPort = 443";
        var request = Range(query, Ms(5), 60_000, 16, limit: 7, forward: forward);

        var result = Assert.IsType<StreamsResult>(await RunAsync(request));

        var candidates = _data.Records.Where(r => r.Tenant == "default" && r.Src.Namespace == "ns-b" && r.DstPort == 443
            && r.TimeFlowEndMs >= Ms(5) && r.TimeFlowEndMs < Ms(20));
        var expected = (forward ? candidates.OrderBy(r => r.TimeFlowEndMs) : candidates.OrderByDescending(r => r.TimeFlowEndMs))
            .Take(7).Select(r => r.TimeFlowEndMs * 1_000_000).ToList();
        var entries = result.Streams.SelectMany(s => s.Entries).ToList();
        Assert.Equal(expected.Order(), entries.Select(e => e.TimestampNs).Order());
        foreach (var stream in result.Streams)
        {
            var ts = stream.Entries.Select(e => e.TimestampNs).ToList();
            Assert.Equal(forward ? ts.Order() : ts.OrderDescending(), ts);
            Assert.Equal("ns-b", stream.Labels.Get("SrcK8S_Namespace"));
            Assert.Equal("netobserv-flowcollector", stream.Labels.Get("app"));
            foreach (var entry in stream.Entries)
            {
                using var line = JsonDocument.Parse(entry.Line);
                Assert.Equal("ns-b", line.RootElement.GetProperty("SrcK8S_Namespace").GetString());
                Assert.Equal(entry.TimestampNs / 1_000_000, line.RootElement.GetProperty("TimeFlowEndMs").GetInt64());
            }
        }
    }

    [Fact]
    public async Task LogQuery_LineFilter_KeepsOnlyMatchingLines()
    {
        var result = Assert.IsType<StreamsResult>(await RunAsync(
            Range("{app=\"netobserv-flowcollector\"} |= \"ns.d\" != \"5432\"", Ms(0), 60_000, 31, limit: 1000)));

        var expected = _data.Records.Count(r => r.Tenant == "default" && r.TimeFlowEndMs >= Ms(0) && r.TimeFlowEndMs < Ms(30)
            && FlowRecordJson.ToJson(r).Contains("ns.d", StringComparison.Ordinal)
            && !FlowRecordJson.ToJson(r).Contains("5432", StringComparison.Ordinal));
        Assert.True(expected > 0);
        Assert.Equal(expected, result.Streams.Sum(s => s.Entries.Count));
    }

    [Fact]
    public async Task Tenant_OtherTenant_SeesOnlyItsFlows()
    {
        var query = $"sum(count_over_time({App}[30m]))";
        var result = Assert.IsType<MatrixResult>(await RunAsync(Range(query, Ms(30), 60_000, 1, tenant: "other")));

        var series = Assert.Single(result.Series);
        Assert.Equal(_data.Records.Count(r => r.Tenant == "other" && r.TimeFlowEndMs <= Ms(30)), series.Values[0]);
    }

    [Fact]
    public async Task HealthCheck_VectorPlusVector_ReturnsOneSampleOfTwo()
    {
        var request = new QueryRequest("vector(1)+vector(1)", 4_000_000_000, 4_000_000_000, 60_000, 100, false, true, new FlowAccess(["default"]));

        var result = Assert.IsType<VectorResult>(await RunAsync(request));

        var sample = Assert.Single(result.Samples);
        Assert.Equal(2, sample.Value);
        Assert.Empty(sample.Labels.Pairs);
        Assert.Equal(4_000, result.TimestampMs);
    }

    [Fact]
    public async Task LogVolume_GroupingByAbsentLabels_ReturnsOneSeriesWithEmptyLabels()
    {
        var query = $"sum by (level, detected_level) (count_over_time({App} | drop __error__[1m]))";
        var result = Assert.IsType<MatrixResult>(await RunAsync(Range(query, Ms(1), 60_000, 30)));

        var series = Assert.Single(result.Series);
        Assert.Empty(series.Labels.Pairs);
        var expected = TestFlows.Expected(_data.Records, Ms(1), 60_000, 30, 60_000, _ => "", _ => 1, false)[""];
        Assert.Equal(expected, series.Values);
    }

    [Theory]
    [InlineData("$__auto")]
    [InlineData("$__interval")]
    public async Task GrafanaRangeVariable_Literal_MeansTheStep(string variable)
    {
        var withVariable = Assert.IsType<MatrixResult>(await RunAsync(
            Range($"sum(count_over_time({App}[{variable}]))", Ms(1), 120_000, 15)));
        var fixedRange = Assert.IsType<MatrixResult>(await RunAsync(
            Range($"sum(count_over_time({App}[2m]))", Ms(1), 120_000, 15)));

        var expected = TestFlows.Expected(_data.Records, Ms(1), 120_000, 15, 120_000, _ => "", _ => 1, false)[""];
        Assert.Equal(expected, Assert.Single(withVariable.Series).Values);
        Assert.Equal(expected, Assert.Single(fixedRange.Series).Values);
    }

    [Fact]
    public async Task Arithmetic_VectorTimesScalarAndVectorDivision_ComputesPerSeries()
    {
        var query = $"sum by (SrcK8S_Namespace) (bytes_over_time({App}[30m])) * 8 / sum by (SrcK8S_Namespace) (count_over_time({App}[30m]))";
        var result = Assert.IsType<VectorResult>(await RunAsync(new QueryRequest(query, Ms(30) * 1_000_000, Ms(30) * 1_000_000,
            60_000, 100, false, true, new FlowAccess(["default"]))));

        var groups = _data.Records.Where(r => r.Tenant == "default").GroupBy(r => r.Src.Namespace ?? "");
        Assert.Equal(groups.Count(), result.Samples.Count);
        foreach (var group in groups)
        {
            var sample = result.Samples.Single(s => (s.Labels.Get("SrcK8S_Namespace") ?? "") == group.Key);
            Assert.Equal(group.Sum(r => r.Bytes) * 8.0 / group.Count(), sample.Value, 6);
        }
    }

    [Fact]
    public async Task MaxSeries_TooManySeries_Rejected()
    {
        var query = $"sum by (SrcAddr) (count_over_time({App}[1m]))";
        var error = await Assert.ThrowsAsync<QueryException>(() =>
            RunAsync(Range(query, Ms(1), 60_000, 30), new QueryOptions { MaxSeries = 10 }));
        Assert.Contains("maximum number of series (10)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxEntries_LimitAboveMax_Rejected()
    {
        var error = await Assert.ThrowsAsync<QueryException>(() => RunAsync(Range(App, Ms(1), 60_000, 30, limit: 6000)));
        Assert.Equal("max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000)", error.Message);
    }

    [Fact]
    public async Task LabelValues_NamespaceWithSelector_ReturnsDistinctValues()
    {
        var selector = LogQLParser.ParseSelector("{app=\"netobserv-flowcollector\", DstK8S_Namespace=~\"ns-a|ns-b\"}");
        var values = await _data.Engine().LabelValuesAsync("SrcK8S_Owner" + "Name", selector, Ms(0) * 1_000_000,
            Ms(60) * 1_000_000, new FlowAccess(["default"]), CancellationToken.None).DefaultTimeout();

        var expected = _data.Records.Where(r => r.Tenant == "default" && r.Dst.Namespace is "ns-a" or "ns-b"
            && r.Src.OwnerName is not null).Select(r => r.Src.OwnerName!).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal(expected, values);
    }
}
