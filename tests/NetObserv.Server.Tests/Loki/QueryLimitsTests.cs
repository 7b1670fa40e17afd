using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// Hostile query parameters over HTTP: times at and past the edges of what a nanosecond timestamp holds,
/// ranges that overflow, regexes that time out or are too complex for PostgreSQL, a flood of integer
/// alternatives with literals past int64, answers larger than
/// <c>Query:MaxResponseBytes</c>, the result cache's byte budget and internal errors. Each is a 4xx (or a
/// 500 that says nothing of the database), and the server keeps answering.
/// </summary>
public sealed class QueryLimitsTests : IClassFixture<QueryLimitsFixture>
{
    private const string Selector = "{app=\"netobserv-flowcollector\"}";
    private readonly QueryLimitsFixture _fixture;

    public QueryLimitsTests(QueryLimitsFixture fixture)
    {
        _fixture = fixture;
    }

    private HttpClient Http => _fixture.Server.Http;

    private static long Ms(int minutes) => QueryTestFlows.OriginMs + (minutes * 60_000L);

    private static string Ns(long ms) => (ms * 1_000_000).ToString(CultureInfo.InvariantCulture);

    private static string Q(string text) => Uri.EscapeDataString(text);

    private static async Task<(HttpStatusCode Status, string Body)> GetAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync(new Uri(url, UriKind.Relative)).DefaultTimeout();
        return (response.StatusCode, await response.Content.ReadAsStringAsync().DefaultTimeout());
    }

    private Task<(HttpStatusCode Status, string Body)> GetAsync(string url) => GetAsync(Http, url);

    /// <summary>The server still answers a small query with the right number.</summary>
    private async Task AssertStillAnswersAsync()
    {
        var query = Q($"sum(count_over_time({Selector}[30m]))");
        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={query}&start={Ns(Ms(30))}&end={Ns(Ms(30))}&step=60s");
        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        using var doc = JsonDocument.Parse(body);
        var series = Assert.Single(doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
        Assert.Equal(_fixture.Flows.Count(f => f.EndMs <= Ms(30)).ToString(CultureInfo.InvariantCulture),
            series.GetProperty("values")[0][1].GetString());
    }

    [Theory]
    [InlineData("1700000000", 1_700_000_000_000)]
    [InlineData("1700000000.5", 1_700_000_000_500)]
    [InlineData("1700000000.1234", 1_700_000_000_123)]
    [InlineData("1700000000123456789", 1_700_000_000_123)]
    [InlineData("2023-11-14T22:13:20.123456789Z", 1_700_000_000_123)]
    [InlineData("2023-11-14T23:13:20.5+01:00", 1_700_000_000_500)]
    [InlineData("-86400", -86_400_000)]
    [InlineData("9223372036", 9_223_372_036_000)]
    public async Task Query_TimeInEveryLokiForm_AnsweredAtThatTime(string time, long expectedMs)
    {
        var (status, body) = await GetAsync($"/loki/api/v1/query?query={Q("vector(1)")}&time={Q(time)}");

        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        using var doc = JsonDocument.Parse(body);
        var sample = Assert.Single(doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
        Assert.Equal(expectedMs / 1000m, sample.GetProperty("value")[0].GetDecimal());
    }

    [Theory]
    [InlineData("9999999999")]
    [InlineData("9223372037")]
    [InlineData("1.0e30")]
    [InlineData("-1.0e30")]
    [InlineData("9999-12-31T23:59:59Z")]
    [InlineData("0001-01-01T00:00:00Z")]
    public async Task Query_TimeOutsideNanosecondRange_400NotANegativeTime(string time)
    {
        var (status, body) = await GetAsync($"/loki/api/v1/query?query={Q("vector(1)")}&time={Q(time)}");

        Assert.True(status == HttpStatusCode.BadRequest, $"{status}: {body}");
        Assert.StartsWith($"invalid parameter \"time\": {time} is outside the supported range", body, StringComparison.Ordinal);
        await AssertStillAnswersAsync();
    }

    [Theory]
    [InlineData("query_range?query=vector(1)&start=-9223372036854775808&end=9223372036854775807")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&start=-9223372036854775808&end=9223372036854775807")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&start=1&end=9223372036854775807")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&since=99999999h")]
    [InlineData("query_range?query=vector(1)&since=99999999h&end=0")]
    [InlineData("query_range?query=%7Bapp%3D%22x%22%7D&start=1677-09-22T00:00:00Z&end=2262-04-10T00:00:00Z")]
    [InlineData("labels?start=-9223372036854775808&end=9223372036854775807")]
    [InlineData("label/SrcK8S_Namespace/values?start=-9223372036854775808&end=9223372036854775807")]
    [InlineData("series?match[]=%7Bapp%3D%22netobserv-flowcollector%22%7D&start=-9223372036854775808&end=9223372036854775807")]
    [InlineData("index/stats?query=%7Bapp%3D%22netobserv-flowcollector%22%7D&start=-9223372036854775808&end=9223372036854775807")]
    public async Task RangePastMaxQueryRangeInAnyForm_400NamingTheLimit(string pathAndQuery)
    {
        var (status, body) = await GetAsync("/loki/api/v1/" + pathAndQuery);

        Assert.True(status == HttpStatusCode.BadRequest, $"{status}: {body}");
        Assert.StartsWith("the query time range exceeds the limit (query length: ", body, StringComparison.Ordinal);
        Assert.EndsWith(", limit: 30d1h, Query:MaxQueryRange)", body, StringComparison.Ordinal);
        await AssertStillAnswersAsync();
    }

    [Theory]
    [InlineData("1e30")]
    [InlineData("-1e30")]
    [InlineData("NaN")]
    [InlineData("Infinity")]
    [InlineData("99999999999999999y")]
    public async Task QueryRange_StepOverflowing_400(string step)
    {
        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query=vector(1)&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step={Q(step)}");

        Assert.True(status == HttpStatusCode.BadRequest, $"{status}: {body}");
        Assert.StartsWith($"invalid parameter \"step\": cannot parse \"{step}\" to a valid duration", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{app=~\"([a-z-]+)+x\"}")]
    [InlineData("sum(count_over_time({app=~\"(\\\\w|-|\\\\w\\\\w|[a-z]+)*x\"}[5m]))")]
    public async Task QueryRange_BacktrackingPatternOnAConstantLabel_AnsweredInLinearTime(string query)
    {
        // RE2 semantics: nested quantifiers cost linear time (the pattern runs without backtracking), as in Loki.
        var (status, body) = await GetAsync(
            $"/loki/api/v1/query_range?query={Q(query)}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step=60s");

        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        Assert.Contains("\"result\":[]", body, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{app=\"netobserv-flowcollector\", SrcK8S_Namespace=~\"((a{1,200}){1,200}){1,200}\"}", "regular expression")]
    public async Task QueryRange_RegexTimingOutOrTooComplex_400(string query, string message)
    {
        var (status, body) = await GetAsync(
            $"/loki/api/v1/query_range?query={Q(query)}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step=60s");

        Assert.True(status == HttpStatusCode.BadRequest, $"{status}: {body}");
        Assert.Contains(message, body, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", body, StringComparison.Ordinal);
        await AssertStillAnswersAsync();
    }

    [Fact]
    public async Task QueryRange_IntegerAlternativesFloodAndOutOfRange_AnsweredAsTheRegexWouldAndServerKeepsAnswering()
    {
        // 20,000 literal alternatives on an integer field (one array parameter), with literals no integer's
        // text can be: past int64, 45 digits, a leading zero, a sign on zero. Only 1 matches a direction.
        var literals = Enumerable.Range(2, 20_000).Select(i => i.ToString(CultureInfo.InvariantCulture))
            .Concat(["9223372036854775808", new string('9', 45), "01", "-0", "^1$"]);
        var query = $"sum(count_over_time({{app=\"netobserv-flowcollector\", FlowDirection=~\"{string.Join('|', literals)}\"}}[30m]))";
        using var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["query"] = query,
            ["start"] = Ns(Ms(30)),
            ["end"] = Ns(Ms(30)),
            ["step"] = "60s",
        });

        using var response = await Http.PostAsync(new Uri("/loki/api/v1/query_range", UriKind.Relative), form).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        var series = Assert.Single(doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
        Assert.Equal(_fixture.Flows.Count(f => f.EndMs <= Ms(30) && f.Direction == 1).ToString(CultureInfo.InvariantCulture),
            series.GetProperty("values")[0][1].GetString());
        await AssertStillAnswersAsync();
    }

    [Fact]
    public async Task QueryRange_FormPastFormLimits_400()
    {
        var fields = Enumerable.Range(0, 5_000).Select(i => new KeyValuePair<string, string>("f" + i, "v"))
            .Append(new("query", "vector(1)"));
        using var form = new FormUrlEncodedContent(fields);

        using var response = await Http.PostAsync(new Uri("/loki/api/v1/query_range", UriKind.Relative), form).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
        Assert.StartsWith("invalid form body: ", body, StringComparison.Ordinal);
        await AssertStillAnswersAsync();
    }

    [Fact]
    public async Task QueryRange_MatrixLargerThanMaxResponseBytes_400SayingHowToNarrow()
    {
        var query = Q($"sum by (SrcK8S_Namespace, DstK8S_Namespace) (count_over_time({Selector}[1m]))");

        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={query}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step=1s");
        var (smallStatus, smallBody) = await GetAsync($"/loki/api/v1/query_range?query={query}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step=10m");

        Assert.True(status == HttpStatusCode.BadRequest, $"{status}: {body[..Math.Min(body.Length, 500)]}");
        Assert.Contains(string.Create(CultureInfo.InvariantCulture,
            $"(Query:MaxResponseBytes, {QueryLimitsFixture.MaxResponseBytes:N0} bytes)"), body, StringComparison.Ordinal);
        Assert.Contains("step", body, StringComparison.Ordinal);
        Assert.Contains("shorter range", body, StringComparison.Ordinal);
        Assert.True(smallStatus == HttpStatusCode.OK, $"{smallStatus}: {smallBody}");
        Assert.InRange(smallBody.Length, 1, QueryLimitsFixture.MaxResponseBytes);
        await AssertStillAnswersAsync();
    }

    [Theory]
    [InlineData("0", false)]
    [InlineData("268435456", true)]
    public async Task QueryRange_AnswerOverOneMebibyte_SentWholeAndExact(string cacheMaxBytes, bool buffered)
    {
        // With the cache off, an answer over 1 MiB is measured, then streamed (chunked); with it on, an
        // answer the cache may keep is built once in memory and sent with its length.
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Query:CacheMaxBytes"] = cacheMaxBytes,
        });
        await QueryTestFlows.InsertAsync(server.ConnectionString, _fixture.Flows).DefaultTimeout();
        var query = Q($"sum by (SrcK8S_Namespace, DstK8S_Namespace, DstK8S_OwnerName, FlowDirection) (count_over_time({Selector}[5m]))");
        using var response = await server.Http.GetAsync(
            $"/loki/api/v1/query_range?query={query}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step=1s").DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(body.Length > 1 << 20, $"{body.Length} bytes: {body[..Math.Min(body.Length, 400)]}");
        Assert.Equal(!buffered, response.Headers.TransferEncodingChunked == true);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(body), response.Content.Headers.ContentLength);
        using var doc = JsonDocument.Parse(body);
        var result = doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList();
        var flows = _fixture.Flows;
        long points = 0;
        foreach (var series in result)
        {
            var metric = series.GetProperty("metric");
            string? Label(string name) => metric.TryGetProperty(name, out var v) ? v.GetString() : null;
            var mine = flows.Where(f => f.SrcNamespace == Label("SrcK8S_Namespace") && f.DstNamespace == Label("DstK8S_Namespace")
                && f.DstOwner == Label("DstK8S_OwnerName") && f.Direction.ToString(CultureInfo.InvariantCulture) == Label("FlowDirection"))
                .Select(f => f.EndMs).ToList();
            foreach (var point in series.GetProperty("values").EnumerateArray())
            {
                var t = (long)Math.Round(point[0].GetDouble() * 1000);
                Assert.Equal(mine.Count(e => e > t - 300_000 && e <= t).ToString(CultureInfo.InvariantCulture), point[1].GetString());
                points++;
            }
        }

        var expectedPoints = 0L;
        foreach (var group in flows.GroupBy(f => (f.SrcNamespace, f.DstNamespace, f.DstOwner, f.Direction)))
        {
            for (var t = Ms(0); t <= Ms(30); t += 1000)
            {
                expectedPoints += group.Any(f => f.EndMs > t - 300_000 && f.EndMs <= t) ? 1 : 0;
            }
        }

        Assert.Equal(expectedPoints, points);
        Assert.Equal(points, doc.RootElement.GetProperty("data").GetProperty("stats").GetProperty("summary")
            .GetProperty("totalEntriesReturned").GetInt64());
    }

    [Fact]
    public async Task QueryRange_LogLinesLargerThanMaxResponseBytes_400SayingHowToNarrow()
    {
        var (status, body) = await GetAsync($"/loki/api/v1/query_range?query={Q(Selector)}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&limit=5000");

        Assert.True(status == HttpStatusCode.BadRequest, $"{status}: {body[..Math.Min(body.Length, 500)]}");
        Assert.Contains("(Query:MaxResponseBytes", body, StringComparison.Ordinal);
        Assert.Contains("limit", body, StringComparison.Ordinal);
        await AssertStillAnswersAsync();
    }

    [Fact]
    public async Task ResultCache_ManyDistinctResults_NeverAboveCacheMaxBytes()
    {
        const int budget = 64_000;
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Query:CacheMaxBytes"] = budget.ToString(CultureInfo.InvariantCulture),
        });
        await QueryTestFlows.InsertAsync(server.ConnectionString, _fixture.Flows).DefaultTimeout();
        var query = Q($"sum by (DstK8S_Namespace) (count_over_time({Selector}[5m]))");

        // An answer above budget / 16 is not kept.
        var (bigStatus, big) = await GetAsync(server.Http,
            $"/loki/api/v1/query_range?query={query}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step=10s");
        Assert.True(bigStatus == HttpStatusCode.OK, big);
        Assert.True(big.Length > budget / 16, $"{big.Length} bytes");
        Assert.Equal(0, await CacheBytesAsync(server));

        long peak = 0;
        var total = 0L;
        for (var i = 0; i < 120; i++)
        {
            var url = $"/loki/api/v1/query_range?query={query}&start={Ns(Ms(0))}&end={Ns(Ms(30))}&step={60 + i}s";
            var (status, body) = await GetAsync(server.Http, url);
            Assert.True(status == HttpStatusCode.OK, body);
            Assert.True(body.Length <= budget / 16, $"{body.Length} bytes");
            total += body.Length;
            var cached = await CacheBytesAsync(server);
            Assert.InRange(cached, 0, budget);
            peak = Math.Max(peak, cached);
        }

        Assert.True(total > budget, $"{total} bytes asked");
        Assert.True(peak > budget / 4, $"peak {peak}");
    }

    private static async Task<long> CacheBytesAsync(RunningServer server)
    {
        var (status, body) = await GetAsync(server.Http, "/metrics");
        Assert.Equal(HttpStatusCode.OK, status);
        var line = body.Split('\n').SingleOrDefault(l => l.StartsWith("netobserv_query_cache_bytes ", StringComparison.Ordinal));
        Assert.True(line is not null, "no netobserv_query_cache_bytes in /metrics");
        return long.Parse(line["netobserv_query_cache_bytes ".Length..].Trim(), CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task InternalError_DatabaseTableGone_500WithOnlyACorrelationIdThatIsLogged()
    {
        await using var server = await RunningServer.StartAsync();
        var logs = new CapturingLoggerProvider();
        server.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync().DefaultTimeout();
            await using var drop = new NpgsqlCommand("DROP TABLE flow_rows CASCADE", connection);
            await drop.ExecuteNonQueryAsync().DefaultTimeout();
        }

        var (status, body) = await GetAsync(server.Http,
            $"/loki/api/v1/query_range?query={Q(Selector)}&start={Ns(Ms(0))}&end={Ns(Ms(30))}");
        var (valuesStatus, valuesBody) = await GetAsync(server.Http,
            $"/loki/api/v1/label/DnsName/values?start={Ns(Ms(0))}&end={Ns(Ms(30))}");
        var (buildStatus, _) = await GetAsync(server.Http, "/loki/api/v1/status/buildinfo");

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Equal(HttpStatusCode.InternalServerError, valuesStatus);
        var builder = new NpgsqlConnectionStringBuilder(server.ConnectionString);
        foreach (var text in new[] { body, valuesBody })
        {
            var match = Regex.Match(text, @"^internal error \(id ([^\s()]+)\)$");
            Assert.True(match.Success, text);
            foreach (var secret in new[] { "Npgsql", "PostgreSQL", "postgres", "flows", "42P01", builder.Host!,
                builder.Port.ToString(CultureInfo.InvariantCulture), builder.Database! })
            {
                Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
            }

            var id = match.Groups[1].Value;
            Assert.Contains(logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains(id, StringComparison.Ordinal)
                && e.Exception is PostgresException { SqlState: PostgresErrorCodes.UndefinedTable });
        }

        Assert.NotEqual(Regex.Match(body, @"id (\S+)\)").Value, Regex.Match(valuesBody, @"id (\S+)\)").Value);
        Assert.Equal(HttpStatusCode.OK, buildStatus);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        public ConcurrentQueue<(LogLevel Level, string Message, Exception? Exception)> Entries { get; } = new();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
                Func<TState, Exception?, string> formatter) =>
                owner.Entries.Enqueue((logLevel, formatter(state, exception), exception));
        }
    }
}
