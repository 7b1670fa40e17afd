using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>Line filters in metric queries and index statistics over HTTP.</summary>
public sealed class LineFilterApiTests : IClassFixture<LineFilterApiFixture>
{
    private const string Selector = "{app=\"netobserv-flowcollector\"}";
    private readonly LineFilterApiFixture _fixture;

    public LineFilterApiTests(LineFilterApiFixture fixture)
    {
        _fixture = fixture;
    }

    private HttpClient Http => _fixture.Server.Http;

    private static long Ms(int minutes) => QueryTestFlows.OriginMs + (minutes * 60_000L);

    private static string Ns(long ms) => (ms * 1_000_000).ToString(CultureInfo.InvariantCulture);

    private static string Q(string text) => Uri.EscapeDataString(text);

    private async Task<(HttpStatusCode Status, string Body)> GetAsync(string url, string? tags = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (tags is not null)
        {
            request.Headers.Add("X-Query-Tags", tags);
        }

        using var response = await Http.SendAsync(request).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private async Task<JsonElement> GetJsonAsync(string url)
    {
        var (status, body) = await GetAsync(url);
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.Clone();
    }

    /// <summary>"ns.d" is in a flow's line exactly when one of its namespaces is ns.d (no other field can hold it).</summary>
    private static bool HasNsD(QueryTestFlow f) => f.SrcNamespace == "ns.d" || f.DstNamespace == "ns.d";

    [Fact]
    public async Task QueryRange_ExploreLogVolumeWithLineFilter_MatrixOfMatchingFlows()
    {
        var query = Q($"sum by (level, detected_level) (count_over_time({Selector} |= \"ns.d\" | drop __error__[1m]))");

        var (status, body) = await GetAsync(
            $"/loki/api/v1/query_range?query={query}&start={Ns(Ms(1))}&end={Ns(Ms(10))}&step=60000ms", "Source=logvolhist");

        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        using var doc = JsonDocument.Parse(body);
        var data = doc.RootElement.GetProperty("data");
        Assert.Equal("matrix", data.GetProperty("resultType").GetString());
        var series = Assert.Single(data.GetProperty("result").EnumerateArray().ToList());
        Assert.Empty(series.GetProperty("metric").EnumerateObject());
        for (var k = 0; k < 10; k++)
        {
            var t = Ms(1 + k);
            var expected = _fixture.Flows.Count(f => HasNsD(f) && f.EndMs > t - 60_000 && f.EndMs <= t);
            var point = series.GetProperty("values").EnumerateArray().SingleOrDefault(p => p[0].GetDouble() == t / 1000.0);
            Assert.Equal(expected, point.ValueKind == JsonValueKind.Undefined ? 0
                : long.Parse(point[1].GetString()!, CultureInfo.InvariantCulture));
        }
    }

    [Fact]
    public async Task QueryRange_LineFilterOverMoreRowsThanTheLimit_400NamingTheLimit()
    {
        var query = Q($"sum(rate({Selector} != \"ns.d\" | json | unwrap Bytes [5m]))");

        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={query}&start={Ns(Ms(1))}&end={Ns(Ms(30))}&step=60s");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture,
            $"line filters in metric queries may scan at most {LineFilterApiFixture.MaxLineFilterRows:N0} flows (Query:MaxLineFilterRows)"),
            body, StringComparison.Ordinal);
        Assert.Contains("label filter", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task QueryRange_LogQueryLineFilterMatchingNothingOverMoreRowsThanTheLimit_400NamingTheLimit()
    {
        var query = Q($"{Selector} |= \"no flow has this text\"");

        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={query}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&limit=10");
        var (shortStatus, shortBody) = await GetAsync($"/loki/api/v1/query_range?query={query}&start={Ns(Ms(0))}&end={Ns(Ms(5))}&limit=10");

        Assert.True(_fixture.Flows.Count(f => f.EndMs >= Ms(0) && f.EndMs < Ms(30)) > LineFilterApiFixture.MaxLineFilterRows);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.StartsWith(string.Create(CultureInfo.InvariantCulture,
            $"line filters in log queries may scan at most {LineFilterApiFixture.MaxLineFilterRows:N0} flows (Query:MaxLineFilterRows)"),
            body, StringComparison.Ordinal);
        Assert.Contains("shorten the time range", body, StringComparison.Ordinal);
        Assert.True(shortStatus == HttpStatusCode.OK, $"{shortStatus}: {shortBody}");
        using var doc = JsonDocument.Parse(shortBody);
        Assert.Empty(doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray());
    }

    [Fact]
    public async Task IndexStats_FewFlows_BytesAreTheirLines()
    {
        var selector = "{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-a\"}";
        var range = $"start={Ns(Ms(3) + 500)}&end={Ns(Ms(6) + 250)}";

        var stats = await GetJsonAsync($"/loki/api/v1/index/stats?query={Q(selector)}&{range}");
        var logs = await GetJsonAsync($"/loki/api/v1/query_range?query={Q(selector)}&{range}&limit=1000");

        var lines = logs.GetProperty("data").GetProperty("result").EnumerateArray()
            .SelectMany(s => s.GetProperty("values").EnumerateArray()).Select(v => v[1].GetString()!).ToList();
        var expected = _fixture.Flows.Count(f => f.SrcNamespace == "ns-a" && f.EndMs >= Ms(3) + 500 && f.EndMs < Ms(6) + 250);
        Assert.InRange(expected, 1, 100);
        Assert.Equal(expected, lines.Count);
        Assert.Equal(expected, stats.GetProperty("entries").GetInt64());
        Assert.Equal(lines.Sum(l => (long)Encoding.UTF8.GetByteCount(l)), stats.GetProperty("bytes").GetInt64());
        Assert.True(stats.GetProperty("streams").GetInt64() >= 1);
        Assert.True(stats.GetProperty("chunks").GetInt64() >= stats.GetProperty("streams").GetInt64());
    }

    [Fact]
    public async Task IndexStats_ManyFlows_BytesFromTheLatestHundredLines()
    {
        var range = $"start={Ns(Ms(0))}&end={Ns(Ms(60))}";

        var stats = await GetJsonAsync($"/loki/api/v1/index/stats?query={Q(Selector)}&{range}");
        var logs = await GetJsonAsync($"/loki/api/v1/query_range?query={Q(Selector)}&{range}&limit=101&direction=backward");

        var latest = logs.GetProperty("data").GetProperty("result").EnumerateArray()
            .SelectMany(s => s.GetProperty("values").EnumerateArray())
            .Select(v => (Ns: long.Parse(v[0].GetString()!, CultureInfo.InvariantCulture), Line: v[1].GetString()!))
            .OrderByDescending(e => e.Ns).ToList();
        Assert.Equal(101, latest.Count);
        Assert.NotEqual(latest[99].Ns, latest[100].Ns);
        var sampleBytes = latest.Take(100).Sum(e => (long)Encoding.UTF8.GetByteCount(e.Line));
        var entries = _fixture.Flows.Count;
        Assert.Equal(entries, stats.GetProperty("entries").GetInt64());
        Assert.Equal((long)((decimal)sampleBytes * entries / 100), stats.GetProperty("bytes").GetInt64());
        Assert.True(stats.GetProperty("bytes").GetInt64() > 0);
    }
}
