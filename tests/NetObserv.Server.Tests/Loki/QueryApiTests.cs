using System.Globalization;
using System.Net;
using System.Text.Json;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>The Loki query API over HTTP, response shapes checked field by field against Loki's HTTP API docs.</summary>
public sealed class QueryApiTests : IClassFixture<QueryApiFixture>
{
    private const string Selector = "{app=\"netobserv-flowcollector\"}";
    private readonly QueryApiFixture _fixture;

    public QueryApiTests(QueryApiFixture fixture)
    {
        _fixture = fixture;
    }

    private HttpClient Http => _fixture.Server.Http;

    private static long Ms(int minutes) => QueryTestFlows.OriginMs + (minutes * 60_000L);

    private static string Ns(long ms) => (ms * 1_000_000).ToString(CultureInfo.InvariantCulture);

    private async Task<JsonElement> GetJsonAsync(string url, string? tenant = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (tenant is not null)
        {
            request.Headers.Add("X-Scope-OrgID", tenant);
        }

        using var response = await Http.SendAsync(request).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    private static string Q(string text) => Uri.EscapeDataString(text);

    [Fact]
    public async Task Query_GrafanaHealthCheck_ReturnsVectorWithOneSampleOfTwo()
    {
        var json = await GetJsonAsync("/loki/api/v1/query?direction=backward&query=vector%281%29%2Bvector%281%29&time=4000000000");

        Assert.Equal("success", json.GetProperty("status").GetString());
        var data = json.GetProperty("data");
        Assert.Equal("vector", data.GetProperty("resultType").GetString());
        var sample = Assert.Single(data.GetProperty("result").EnumerateArray().ToList());
        Assert.Empty(sample.GetProperty("metric").EnumerateObject());
        var value = sample.GetProperty("value");
        Assert.Equal(2, value.GetArrayLength());
        Assert.Equal(JsonValueKind.Number, value[0].ValueKind);
        // Loki reads an integer of up to 10 digits as seconds; Grafana only checks the value.
        Assert.Equal(4_000_000_000, value[0].GetDouble());
        Assert.Equal("2", value[1].GetString());
        Assert.Equal(JsonValueKind.Object, data.GetProperty("stats").ValueKind);
    }

    [Fact]
    public async Task Labels_OldHealthCheck_ReturnsStreamLabelNames()
    {
        var json = await GetJsonAsync($"/loki/api/v1/labels?start={Ns(Ms(0))}&end={Ns(Ms(30))}");

        Assert.Equal("success", json.GetProperty("status").GetString());
        var labels = json.GetProperty("data").EnumerateArray().Select(e => e.GetString()).ToList();
        Assert.Equal(["DstK8S_Namespace", "DstK8S_OwnerName", "DstK8S_Type", "FlowDirection", "K8S_FlowLayer",
            "SrcK8S_Namespace", "SrcK8S_OwnerName", "SrcK8S_Type", "_RecordType", "app"], labels);
    }

    [Fact]
    public async Task LabelValues_RegexEscapedMultiValueSelector_ReturnsValuesOfMatchingFlows()
    {
        var query = Q("{app=\"netobserv-flowcollector\",DstK8S_Namespace=~\"ns-a|ns\\\\.d\"}");
        var json = await GetJsonAsync(
            $"/loki/api/v1/label/SrcK8S_Namespace/values?start={Ns(Ms(0))}&end={Ns(Ms(60))}&query={query}");

        var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.DstNamespace is "ns-a" or "ns.d"
            && f.SrcNamespace is not null).Select(f => f.SrcNamespace!).Distinct().Order(StringComparer.Ordinal);
        Assert.Equal("success", json.GetProperty("status").GetString());
        Assert.Equal(expected, json.GetProperty("data").EnumerateArray().Select(e => e.GetString()!));
    }

    [Fact]
    public async Task LabelValues_App_ReturnsTheConstant()
    {
        var json = await GetJsonAsync($"/loki/api/v1/label/app/values?start={Ns(Ms(0))}&end={Ns(Ms(60))}");

        Assert.Equal(["netobserv-flowcollector"], json.GetProperty("data").EnumerateArray().Select(e => e.GetString()!));
    }

    [Theory]
    [InlineData("60000ms")]
    [InlineData("60s")]
    [InlineData("1m")]
    [InlineData("60")]
    [InlineData("60.0")]
    public async Task QueryRange_BytesRateBySourceNamespace_MatrixMatchesFlows(string step)
    {
        var query = Q($"sum by (SrcK8S_Namespace) (rate({Selector} | json | unwrap Bytes | __error__=\"\" [1m]))");
        var json = await GetJsonAsync(
            $"/loki/api/v1/query_range?direction=backward&limit=1000&query={query}&start={Ns(Ms(1))}&end={Ns(Ms(30))}&step={step}");

        var data = json.GetProperty("data");
        Assert.Equal("matrix", data.GetProperty("resultType").GetString());
        var result = data.GetProperty("result").EnumerateArray().ToList();
        var expectedNamespaces = _fixture.Flows.Where(f => f.Tenant == "default").Select(f => f.SrcNamespace ?? "")
            .Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedNamespaces, result.Select(s =>
            s.GetProperty("metric").TryGetProperty("SrcK8S_Namespace", out var ns) ? ns.GetString()! : "").Order(StringComparer.Ordinal));
        foreach (var series in result)
        {
            var metric = series.GetProperty("metric");
            var ns = metric.TryGetProperty("SrcK8S_Namespace", out var v) ? v.GetString() : null;
            Assert.True(metric.EnumerateObject().Count() <= 1);
            foreach (var point in series.GetProperty("values").EnumerateArray())
            {
                Assert.Equal(2, point.GetArrayLength());
                Assert.Equal(JsonValueKind.Number, point[0].ValueKind);
                Assert.Equal(JsonValueKind.String, point[1].ValueKind);
                var tMs = (long)Math.Round(point[0].GetDouble() * 1000);
                Assert.Equal(0, (tMs - Ms(1)) % 60_000);
                var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.SrcNamespace == ns
                    && f.EndMs > tMs - 60_000 && f.EndMs <= tMs).Sum(f => f.Bytes) / 60.0;
                Assert.Equal(expected, double.Parse(point[1].GetString()!, CultureInfo.InvariantCulture), 6);
            }
        }
    }

    [Fact]
    public async Task QueryRange_LogQuery_StreamsWithNanosecondStringsNewestFirstWithinLimit()
    {
        var query = Q("{app=\"netobserv-flowcollector\", FlowDirection=\"1\"}");
        var json = await GetJsonAsync(
            $"/loki/api/v1/query_range?direction=BACKWARD&limit=25&query={query}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step=15000ms");

        var data = json.GetProperty("data");
        Assert.Equal("streams", data.GetProperty("resultType").GetString());
        var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.Direction == 1 && f.EndMs >= Ms(0) && f.EndMs < Ms(30))
            .OrderByDescending(f => f.EndMs).Take(25).Select(f => f.EndMs * 1_000_000).Order().ToList();
        var all = new List<long>();
        foreach (var stream in data.GetProperty("result").EnumerateArray())
        {
            var labels = stream.GetProperty("stream");
            Assert.Equal("netobserv-flowcollector", labels.GetProperty("app").GetString());
            Assert.Equal("1", labels.GetProperty("FlowDirection").GetString());
            Assert.All(labels.EnumerateObject(), l => Assert.Equal(JsonValueKind.String, l.Value.ValueKind));
            var previous = long.MaxValue;
            foreach (var entry in stream.GetProperty("values").EnumerateArray())
            {
                Assert.Equal(2, entry.GetArrayLength());
                Assert.Equal(JsonValueKind.String, entry[0].ValueKind);
                var ns = long.Parse(entry[0].GetString()!, CultureInfo.InvariantCulture);
                Assert.True(ns <= previous);
                previous = ns;
                all.Add(ns);
                using var line = JsonDocument.Parse(entry[1].GetString()!);
                Assert.Equal(1, line.RootElement.GetProperty("FlowDirection").GetInt32());
                Assert.Equal(ns / 1_000_000, line.RootElement.GetProperty("TimeFlowEndMs").GetInt64());
            }
        }

        Assert.Equal(expected, all.Order());
    }

    [Fact]
    public async Task QueryRange_PostForm_SameAsGet()
    {
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["query"] = $"sum(count_over_time({Selector}[30m]))",
            ["time"] = "unused",
            ["start"] = Ns(Ms(30)),
            ["end"] = Ns(Ms(30)),
            ["step"] = "60s",
        });
        using var response = await Http.PostAsync("/loki/api/v1/query_range", form).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var doc = JsonDocument.Parse(body);
        var series = Assert.Single(doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
        var point = Assert.Single(series.GetProperty("values").EnumerateArray().ToList());
        Assert.Equal(_fixture.Flows.Count(f => f.Tenant == "default" && f.EndMs <= Ms(30)).ToString(CultureInfo.InvariantCulture),
            point[1].GetString());
    }

    [Fact]
    public async Task QueryRange_ExploreLogVolume_OneSeriesWithEmptyLabels()
    {
        var query = Q($"sum by (level, detected_level) (count_over_time({Selector} | drop __error__[1m]))");
        using var request = new HttpRequestMessage(HttpMethod.Get,
            $"/loki/api/v1/query_range?query={query}&start={Ns(Ms(1))}&end={Ns(Ms(30))}&step=60000ms");
        request.Headers.Add("X-Query-Tags", "Source=logvolhist");
        using var response = await Http.SendAsync(request).DefaultTimeout();
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout());

        var series = Assert.Single(doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
        Assert.Empty(series.GetProperty("metric").EnumerateObject());
        var total = series.GetProperty("values").EnumerateArray().Sum(p => long.Parse(p[1].GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(_fixture.Flows.Count(f => f.Tenant == "default" && f.EndMs > Ms(0) && f.EndMs <= Ms(30)), total);
    }

    [Fact]
    public async Task Query_TenantHeader_SeesOnlyThatTenant()
    {
        var query = Q($"sum(count_over_time({Selector}[1h]))");
        var time = (Ms(60) / 1000).ToString(CultureInfo.InvariantCulture);

        var other = await GetJsonAsync($"/loki/api/v1/query?query={query}&time={time}", tenant: "other");
        var unknown = await GetJsonAsync($"/loki/api/v1/query?query={query}&time={time}", tenant: "nobody");

        var sample = Assert.Single(other.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
        Assert.Equal(Ms(60) / 1000.0, sample.GetProperty("value")[0].GetDouble());
        Assert.Equal(_fixture.Flows.Count(f => f.Tenant == "other").ToString(CultureInfo.InvariantCulture),
            sample.GetProperty("value")[1].GetString());
        Assert.Empty(unknown.GetProperty("data").GetProperty("result").EnumerateArray());
    }

    [Fact]
    public async Task Query_Rfc3339TimeAndTopK_ReturnsVector()
    {
        var query = Q($"topk(2, sum by (DstK8S_Namespace) (count_over_time({Selector}[30m])))");
        var time = Q(DateTimeOffset.FromUnixTimeMilliseconds(Ms(30)).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));

        var json = await GetJsonAsync($"/loki/api/v1/query?query={query}&time={time}");

        var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.EndMs <= Ms(30)).GroupBy(f => f.DstNamespace)
            .Select(g => (g.Key, g.Count())).OrderByDescending(g => g.Item2).Take(2).OrderBy(g => g.Key, StringComparer.Ordinal)
            .ToList();
        var result = json.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(s => (s.GetProperty("metric").GetProperty("DstK8S_Namespace").GetString()!,
                int.Parse(s.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture)))
            .OrderBy(g => g.Item1, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, result);
    }

    [Fact]
    public async Task Series_MatchSelector_ReturnsStreamLabelSets()
    {
        var match = Q("{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-a\"}");
        var json = await GetJsonAsync($"/loki/api/v1/series?match[]={match}&start={Ns(Ms(0))}&end={Ns(Ms(60))}");

        Assert.Equal("success", json.GetProperty("status").GetString());
        var sets = json.GetProperty("data").EnumerateArray().ToList();
        var expected = _fixture.Flows.Where(f => f.Tenant == "default" && f.SrcNamespace == "ns-a")
            .Select(f => (f.SrcOwner, f.DstNamespace, f.DstOwner, f.Direction)).Distinct().Count();
        Assert.Equal(expected, sets.Count);
        Assert.All(sets, s =>
        {
            Assert.Equal("ns-a", s.GetProperty("SrcK8S_Namespace").GetString());
            Assert.Equal("netobserv-flowcollector", s.GetProperty("app").GetString());
        });
    }

    [Fact]
    public async Task IndexStats_Selector_ReturnsCounts()
    {
        var json = await GetJsonAsync($"/loki/api/v1/index/stats?query={Q(Selector)}&start={Ns(Ms(0))}&end={Ns(Ms(60))}");

        Assert.Equal(_fixture.Flows.Count(f => f.Tenant == "default"), json.GetProperty("entries").GetInt64());
        Assert.Equal(JsonValueKind.Number, json.GetProperty("streams").ValueKind);
        Assert.Equal(JsonValueKind.Number, json.GetProperty("chunks").ValueKind);
        Assert.Equal(JsonValueKind.Number, json.GetProperty("bytes").ValueKind);
    }

    [Fact]
    public async Task QueryRange_RangeEndedInThePast_ServedFromCacheAfterDataChanges()
    {
        var flows = QueryTestFlows.Generate(20, seed: 13, tenant: "cache");
        await QueryTestFlows.InsertAsync(_fixture.Server.ConnectionString, flows);
        var query = Q($"sum(count_over_time({Selector}[30m]))");
        var url = $"/loki/api/v1/query_range?query={query}&start={Ns(Ms(30))}&end={Ns(Ms(30))}&step=";

        var first = await GetJsonAsync(url + "60s", tenant: "cache");
        await using (var connection = new Npgsql.NpgsqlConnection(_fixture.Server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var delete = new Npgsql.NpgsqlCommand(
                "DELETE FROM flow_rows WHERE context IN (SELECT id FROM flow_contexts WHERE tenant = 'cache'); "
                + string.Concat(NetObserv.Storage.Rollups.RollupLevel.Stored.Select(l => $"DELETE FROM {l.RowsTable} WHERE key IN (SELECT id FROM flow_rollup_keys WHERE tenant = 'cache'); "))
                + "DELETE FROM flow_rollup_1m_delta WHERE key IN (SELECT id FROM flow_rollup_keys WHERE tenant = 'cache'); ",
                connection);
            Assert.True(await delete.ExecuteNonQueryAsync() >= 20);
        }

        var cached = await GetJsonAsync(url + "60s", tenant: "cache");
        var uncached = await GetJsonAsync(url + "120s", tenant: "cache");

        static string? Value(JsonElement json) => json.GetProperty("data").GetProperty("result").EnumerateArray()
            .Select(s => s.GetProperty("values")[0][1].GetString()).SingleOrDefault();
        Assert.Equal(flows.Count(f => f.EndMs <= Ms(30)).ToString(CultureInfo.InvariantCulture), Value(first));
        Assert.Equal(Value(first), Value(cached));
        Assert.Null(Value(uncached));
    }

    [Fact]
    public async Task BuildInfo_ReturnsVersion()
    {
        var json = await GetJsonAsync("/loki/api/v1/status/buildinfo");

        Assert.False(string.IsNullOrEmpty(json.GetProperty("version").GetString()));
    }

    [Theory]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D%20%7C%20logfmt", "parse error at line 1, col 13: unsupported construct: | logfmt")]
    [InlineData("query_range?query=%7Bapp%7D", "parse error at line 1, col 5: syntax error: unexpected '}', expecting = or != or =~ or !~")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&start=2000000000&end=1000000000", "end timestamp must not be before or equal to start time")]
    [InlineData("query_range?query=vector(1)&start=0&end=100000&step=1", "exceeded maximum resolution of 11,000 points per time series. Try increasing the value of the step parameter")]
    [InlineData("query_range?query=vector(1)&step=0s", "zero or negative query resolution step widths are not accepted. Try a positive integer")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&limit=6000", "max entries limit per query exceeded, limit > max_entries_limit_per_query (6000 > 5000)")]
    [InlineData("query?query=%7Bapp%3D%22x%22%7D", "log queries are not supported as an instant query type, please change your query to a range query type")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&direction=sideways", "invalid parameter \"direction\": invalid direction 'sideways'")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&start=yesterday", "invalid parameter \"start\": cannot parse \"yesterday\" to a valid timestamp")]
    public async Task BadRequest_AnsweredWith400PlainText(string pathAndQuery, string message)
    {
        using var response = await Http.GetAsync("/loki/api/v1/" + pathAndQuery).DefaultTimeout();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(message, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }
}
