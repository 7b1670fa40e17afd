using System.Text;
using System.Text.RegularExpressions;
using NetObserv.Flows;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.Planning;

/// <summary>
/// Line filters inside metric queries (evaluated in memory on the rendered lines) and index statistics,
/// against the fixture's records: expected values filter <see cref="FlowRecordJson.ToJson"/> of the same
/// records in the test.
/// </summary>
public sealed class LineFilterQueryTests : IClassFixture<QueryDataFixture>
{
    private const string App = "{app=\"netobserv-flowcollector\"}";
    private readonly QueryDataFixture _data;

    public LineFilterQueryTests(QueryDataFixture data)
    {
        _data = data;
    }

    private static long Ms(int minutes) => TestFlows.OriginMs + (minutes * 60_000L);

    private static QueryRequest Range(string query, long startMs, long stepMs, int count) =>
        new(query, startMs * 1_000_000, (startMs + ((count - 1) * stepMs)) * 1_000_000, stepMs, 100, false, false,
            new FlowAccess(["default"]));

    private static QueryRequest Instant(string query, long timeMs) =>
        new(query, timeMs * 1_000_000, timeMs * 1_000_000, 60_000, 100, false, true, new FlowAccess(["default"]));

    private async Task<QueryResult> RunAsync(QueryRequest request, QueryOptions? options = null) =>
        await _data.Engine(options).ExecuteAsync(request, QueryEngine.Parse(request.Query), CancellationToken.None)
            .DefaultTimeout();

    /// <summary>A line filter as the test evaluates it: Loki's semantics on the record's JSON line.</summary>
    private static Func<FlowRecord, bool> Line(string op, string value)
    {
        var regex = new Regex(value);
        return op switch
        {
            "|=" => r => FlowRecordJson.ToJson(r).Contains(value, StringComparison.Ordinal),
            "!=" => r => !FlowRecordJson.ToJson(r).Contains(value, StringComparison.Ordinal),
            "|~" => r => regex.IsMatch(FlowRecordJson.ToJson(r)),
            _ => r => !regex.IsMatch(FlowRecordJson.ToJson(r)),
        };
    }

    private static string Filter(string op, string value) => $"{op} `{value}`";

    private static void AssertMatrix(Dictionary<string, double?[]> expected, QueryResult result, Func<LabelSet, string> key)
    {
        var matrix = Assert.IsType<MatrixResult>(result);
        Assert.Contains(expected.Values, v => v.Any(x => x is not null));
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), matrix.Series.Select(s => key(s.Labels)).Order(StringComparer.Ordinal));
        foreach (var series in matrix.Series)
        {
            var want = expected[key(series.Labels)];
            Assert.Equal(want.Length, series.Values.Length);
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

    public static TheoryData<string, string> Filters => new()
    {
        { "|=", "ns.d" },
        { "!=", "5432" },
        { "|~", "\"SrcPort\":[1-3][0-9]{4}," },
        { "!~", "web-[01]|\"DstPort\":443" },
    };

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task CountOverTime_LineFilterRangeLongerThanStep_MatchesRecords(string op, string value)
    {
        var query = $"sum by (SrcK8S_Namespace) (count_over_time({App} {Filter(op, value)} [5m]))";
        var passes = Line(op, value);

        var result = await RunAsync(Range(query, Ms(0), 60_000, 36));

        var expected = TestFlows.Expected(_data.Records.Where(passes), Ms(0), 60_000, 36, 300_000,
            r => r.Src.Namespace ?? "", _ => 1, perSecond: false);
        Assert.NotEqual(_data.Records.Count(r => r.Tenant == "default"), _data.Records.Count(r => r.Tenant == "default" && passes(r)));
        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task BytesRate_LineFilterUnwrapStepLongerThanRange_MatchesRecords(string op, string value)
    {
        var query = $"sum by (DstK8S_Namespace) (rate({App} {Filter(op, value)} | json | unwrap Bytes [1m]))";
        var passes = Line(op, value);

        var result = await RunAsync(Range(query, Ms(1) + 30_000, 90_000, 20));

        var expected = TestFlows.Expected(_data.Records.Where(passes), Ms(1) + 30_000, 90_000, 20, 60_000,
            r => r.Dst.Namespace ?? "", r => r.Bytes, perSecond: true);
        AssertMatrix(expected, result, l => l.Get("DstK8S_Namespace") ?? "");
    }

    [Theory]
    [MemberData(nameof(Filters))]
    public async Task CountOverTime_LineFilterInstant_ReturnsOneSamplePerSeries(string op, string value)
    {
        var query = $"sum by (DstK8S_OwnerName) (count_over_time({App} {Filter(op, value)} [20m]))";
        var passes = Line(op, value);

        var result = Assert.IsType<VectorResult>(await RunAsync(Instant(query, Ms(25))));

        var expected = _data.Records.Where(r => r.Tenant == "default" && r.TimeFlowEndMs > Ms(5) && r.TimeFlowEndMs <= Ms(25)
            && passes(r)).GroupBy(r => r.Dst.OwnerName ?? "").ToDictionary(g => g.Key, g => (double)g.Count());
        Assert.NotEmpty(expected);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal),
            result.Samples.Select(s => s.Labels.Get("DstK8S_OwnerName") ?? "").Order(StringComparer.Ordinal));
        foreach (var (labels, sample) in result.Samples)
        {
            Assert.Equal(expected[labels.Get("DstK8S_OwnerName") ?? ""], sample);
        }
    }

    [Fact]
    public async Task CountOverTime_LineFilterWithoutGrouping_SeriesPerStreamLabels()
    {
        var query = $"count_over_time({App} |= \"ns-c\" | SrcK8S_Namespace != \"\" [10m])";
        var passes = Line("|=", "ns-c");

        var result = await RunAsync(Range(query, Ms(10), 600_000, 3));

        static string Key(FlowRecord r) => string.Join("|", r.Src.Namespace, r.Src.OwnerName, r.Src.Type, r.Dst.Namespace,
            r.Dst.OwnerName, r.Dst.Type, r.FlowDirection, r.K8SFlowLayer, r.RecordType);
        var expected = TestFlows.Expected(_data.Records.Where(r => passes(r) && r.Src.Namespace is not null), Ms(10), 600_000, 3,
            600_000, Key, _ => 1, perSecond: false);
        AssertMatrix(expected, result, l =>
        {
            Assert.Equal("netobserv-flowcollector", l.Get("app"));
            return string.Join("|", l.Get("SrcK8S_Namespace"), l.Get("SrcK8S_OwnerName"), l.Get("SrcK8S_Type"),
                l.Get("DstK8S_Namespace"), l.Get("DstK8S_OwnerName"), l.Get("DstK8S_Type"), l.Get("FlowDirection"),
                l.Get("K8S_FlowLayer"), l.Get("_RecordType"));
        });
    }

    [Theory]
    [InlineData("max", "max_over_time")]
    [InlineData("min", "min_over_time")]
    [InlineData("avg", "avg_over_time")]
    public async Task OverTime_LineFilterUnwrapPackets_MatchesRecords(string outer, string function)
    {
        var query = $"{outer} by (SrcK8S_OwnerName) ({function}({App} !~ `\"Sampling\"` | json | unwrap Packets [7m]))";
        var passes = Line("!~", "\"Sampling\"");
        var records = _data.Records.Where(r => r.Tenant == "default" && passes(r)).ToList();

        var result = Assert.IsType<MatrixResult>(await RunAsync(Range(query, Ms(3), 120_000, 15)));

        var expected = new Dictionary<string, double?[]>(StringComparer.Ordinal);
        for (var k = 0; k < 15; k++)
        {
            var t = Ms(3) + (k * 120_000L);
            var window = records.Where(r => r.TimeFlowEndMs > t - 420_000 && r.TimeFlowEndMs <= t);
            foreach (var group in window.GroupBy(r => r.Src.OwnerName ?? ""))
            {
                if (!expected.TryGetValue(group.Key, out var values))
                {
                    expected[group.Key] = values = new double?[15];
                }

                values[k] = function switch
                {
                    "max_over_time" => group.Max(r => (double)r.Packets),
                    "min_over_time" => group.Min(r => (double)r.Packets),
                    // avg of per-stream averages: the inner series are the stream label sets.
                    _ => group.GroupBy(r => (r.Src.Namespace, r.Dst.Namespace, r.Dst.OwnerName, r.FlowDirection))
                        .Average(s => s.Average(r => (double)r.Packets)),
                };
            }
        }

        AssertMatrix(expected, result, l => l.Get("SrcK8S_OwnerName") ?? "");
    }

    [Fact]
    public async Task Ratio_LineFilteredLeafOverRollupLeaf_EachLeafOnItsPath()
    {
        var query = $"sum by (SrcK8S_Namespace) (count_over_time({App} |= \"5432\" [1m])) / sum by (SrcK8S_Namespace) (count_over_time({App}[1m]))";
        var grid = new EvaluationGrid(Ms(1), 60_000, 30);
        var plan = new MetricPlanner(_data.Engine().StreamLabels, grid, 29 * 60_000, new FlowAccess(["default"])).Plan(LogQLParser.Parse(query));
        Assert.Equal(0, Assert.Single(plan.LineFilterLeaves).Leaf.Id);
        Assert.Equal(PlanSource.Rollup1m, plan.Leaves[1].Source);

        var result = await RunAsync(Range(query, Ms(1), 60_000, 30));

        var passes = Line("|=", "5432");
        var matching = TestFlows.Expected(_data.Records.Where(passes), Ms(1), 60_000, 30, 60_000, r => r.Src.Namespace ?? "",
            _ => 1, perSecond: false);
        var all = TestFlows.Expected(_data.Records, Ms(1), 60_000, 30, 60_000, r => r.Src.Namespace ?? "", _ => 1, perSecond: false);
        var expected = matching.ToDictionary(kv => kv.Key,
            kv => kv.Value.Select((v, k) => v is { } m ? m / all[kv.Key][k] : null).ToArray());
        AssertMatrix(expected, result, l => l.Get("SrcK8S_Namespace") ?? "");
    }

    [Fact]
    public async Task LogVolume_LineFilter_OneSeriesOfMatchingFlows()
    {
        var query = $"sum by (level, detected_level) (count_over_time({App} |= \"10.0.0.1\" | drop __error__[1m]))";
        var passes = Line("|=", "10.0.0.1");

        var result = Assert.IsType<MatrixResult>(await RunAsync(Range(query, Ms(1), 60_000, 30)));

        var series = Assert.Single(result.Series);
        Assert.Empty(series.Labels.Pairs);
        var expected = TestFlows.Expected(_data.Records.Where(passes), Ms(1), 60_000, 30, 60_000, _ => "", _ => 1, false)[""];
        Assert.Equal(expected, series.Values);
    }

    [Fact]
    public async Task MaxLineFilterRows_MoreCandidateRows_RejectedNamingTheLimit()
    {
        var query = $"sum(count_over_time({App} |= \"ns-a\" [30m]))";
        var candidates = _data.Records.Count(r => r.Tenant == "default" && r.TimeFlowEndMs <= Ms(30));

        var allowed = Assert.IsType<VectorResult>(await RunAsync(Instant(query, Ms(30)),
            new QueryOptions { MaxLineFilterRows = candidates }));
        var error = await Assert.ThrowsAsync<QueryException>(() =>
            RunAsync(Instant(query, Ms(30)), new QueryOptions { MaxLineFilterRows = candidates - 1 }));

        Assert.Equal(_data.Records.Count(r => r.Tenant == "default" && r.TimeFlowEndMs <= Ms(30) && Line("|=", "ns-a")(r)),
            Assert.Single(allowed.Samples).Value);
        Assert.Contains((candidates - 1).ToString("N0", System.Globalization.CultureInfo.InvariantCulture), error.Message,
            StringComparison.Ordinal);
        Assert.Contains("Query:MaxLineFilterRows", error.Message, StringComparison.Ordinal);
        Assert.Contains("label filter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task MaxLineFilterRows_LogQueryMatchingNothing_StopsAtTheSameBound()
    {
        var query = $"{App} |= \"no flow has this text\"";
        var candidates = _data.Records.Count(r => r.Tenant == "default" && r.TimeFlowEndMs >= Ms(0) && r.TimeFlowEndMs < Ms(30));
        var request = new QueryRequest(query, Ms(0) * 1_000_000, Ms(30) * 1_000_000, 60_000, 10, false, false, new FlowAccess(["default"]));

        var allowed = Assert.IsType<StreamsResult>(await RunAsync(request, new QueryOptions { MaxLineFilterRows = candidates }));
        var error = await Assert.ThrowsAsync<QueryException>(() =>
            RunAsync(request, new QueryOptions { MaxLineFilterRows = candidates - 1 }));

        Assert.Empty(allowed.Streams);
        Assert.Equal(candidates, allowed.RowsProcessed);
        Assert.StartsWith(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"line filters in log queries may scan at most {candidates - 1:N0} flows (Query:MaxLineFilterRows)"),
            error.Message, StringComparison.Ordinal);
        Assert.Contains("label filter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryTimeout_LineFilterLeaf_TimeoutException()
    {
        var query = $"sum(count_over_time({App} |= \"ns-a\" [1m]))";

        var error = await Assert.ThrowsAsync<TimeoutException>(() =>
            RunAsync(Range(query, Ms(1), 60_000, 30), new QueryOptions { QueryTimeout = TimeSpan.Zero }));

        Assert.Contains("Query:QueryTimeout", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LineFilter_Backreference_RejectedAsNotRe2()
    {
        var error = await Assert.ThrowsAsync<QueryException>(() =>
            RunAsync(Range($"sum(count_over_time({App} |~ `(ns)-\\1` [1m]))", Ms(1), 60_000, 5)));

        Assert.Contains("invalid regular expression \"(ns)-\\1\": backreferences are not RE2", error.Message,
            StringComparison.Ordinal);
    }

    /// <summary>The estimate <see cref="QueryEngine.StatsAsync"/> documents, computed from the records.</summary>
    private static long ExpectedBytes(List<FlowRecord> matching)
    {
        var sample = matching.OrderByDescending(r => r.TimeFlowEndMs).Take(StatsPlanner.SampleSize).ToList();
        if (matching.Count > sample.Count)
        {
            // The sample's edge must not be a tie, or which flow is in it would be up to the database.
            Assert.NotEqual(sample[^1].TimeFlowEndMs, matching.OrderByDescending(r => r.TimeFlowEndMs).ElementAt(sample.Count).TimeFlowEndMs);
        }

        var sampleBytes = sample.Sum(r => (long)Encoding.UTF8.GetByteCount(FlowRecordJson.ToJson(r)));
        return (long)((decimal)sampleBytes * matching.Count / sample.Count);
    }

    [Theory]
    [InlineData("{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-b\"}", 0, 3_600_000)]
    [InlineData("{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-b\"}", 90_500, 1_501_250)]
    [InlineData("{app=\"netobserv-flowcollector\", DstK8S_Namespace=~\"ns-a|ns-c\"} | SrcPort > 30000", 61_000, 1_700_000)]
    [InlineData("{app=\"netobserv-flowcollector\", DstK8S_OwnerName=\"db\", SrcK8S_Namespace=\"ns.d\"}", 600_000, 900_000)]
    public async Task Stats_Selector_EntriesExactBytesFromSample(string selector, long fromMs, long toMs)
    {
        var parsed = LogQLParser.ParseSelector(selector);
        var start = TestFlows.OriginMs + fromMs;
        var end = TestFlows.OriginMs + toMs;

        var stats = await _data.Engine().StatsAsync(parsed, start * 1_000_000, end * 1_000_000, new FlowAccess(["default"]),
            CancellationToken.None).DefaultTimeout();

        var matching = _data.Records.Where(r => r.Tenant == "default" && r.TimeFlowEndMs >= start && r.TimeFlowEndMs < end
            && Matches(parsed, r)).ToList();
        Assert.NotEmpty(matching);
        Assert.Equal(matching.Count, stats.Entries);
        Assert.True(stats.Bytes > 0);
        Assert.Equal(ExpectedBytes(matching), stats.Bytes);
        var hours = _data.Records.Where(r => r.Tenant == "default" && r.TimeFlowEndMs >= start / 3_600_000 * 3_600_000
            && r.TimeFlowEndMs / 3_600_000 * 3_600_000 < end && MatchesRollupKeys(parsed, r)).ToList();
        Assert.Equal(hours.Select(StreamKey).Distinct().Count(), stats.Streams);
        Assert.Equal(hours.Select(r => (StreamKey(r), r.TimeFlowEndMs / 3_600_000)).Distinct().Count(), stats.Chunks);
    }

    [Fact]
    public async Task Stats_NoMatchingFlows_AllZero()
    {
        var stats = await _data.Engine().StatsAsync(LogQLParser.ParseSelector("{SrcK8S_Namespace=\"absent\"}"),
            Ms(0) * 1_000_000, Ms(60) * 1_000_000, new FlowAccess(["default"]), CancellationToken.None).DefaultTimeout();

        Assert.Equal(new IndexStats(0, 0, 0, 0), stats);
    }

    private static string StreamKey(FlowRecord r) =>
        string.Join("|", r.Src.Namespace, r.Src.OwnerName, r.Dst.Namespace, r.Dst.OwnerName, r.FlowDirection, r.K8SFlowLayer);

    private static string? Field(FlowRecord r, string name) => name switch
    {
        "app" => "netobserv-flowcollector",
        "SrcK8S_Namespace" => r.Src.Namespace,
        "DstK8S_Namespace" => r.Dst.Namespace,
        "DstK8S_OwnerName" => r.Dst.OwnerName,
        "SrcPort" => r.SrcPort?.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new ArgumentException(name),
    };

    private static bool MatchesRollupKeys(LogQuery selector, FlowRecord r) =>
        selector.Matchers.All(m => FilterCompiler.MatchConstant(Field(r, m.Name) ?? "", m.Op, m.Value));

    private static bool Matches(LogQuery selector, FlowRecord r) =>
        MatchesRollupKeys(selector, r) && selector.Stages.OfType<LabelFilterStage>().All(s => s.Filter switch
        {
            NumericLabelFilter { Op: CompareOperator.Greater } n => double.Parse(Field(r, n.Name)!,
                System.Globalization.CultureInfo.InvariantCulture) > n.Value,
            _ => throw new ArgumentException("unexpected filter"),
        });
}
