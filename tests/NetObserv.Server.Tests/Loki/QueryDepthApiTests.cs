using System.Globalization;
using System.Net;
using System.Text.Json;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// Issue 10, "Crash": deeply nested queries, each of which once overflowed the stack and killed the server, get
/// a 400 with the position of the level past the limit, over GET and over a form POST as Grafana sends them;
/// the server stays up and answers the next query, from another client, from its data.
/// </summary>
public sealed class QueryDepthApiTests : IClassFixture<QueryApiFixture>
{
    // The documented nesting limit (docs/logql.md, LogQLParser.MaxDepth).
    private const int Limit = 256;

    // Kestrel's request line limit (MaxRequestLineSize, 8 KiB) bounds a GET query.
    private const int RequestLineBytes = 8 * 1024;

    private readonly QueryApiFixture _fixture;

    public QueryDepthApiTests(QueryApiFixture fixture)
    {
        _fixture = fixture;
    }

    public static TheoryData<string, string> ShapesAndEndpoints()
    {
        var data = new TheoryData<string, string>();
        foreach (var shape in DeepLogQL.IssueSizes.Keys)
        {
            data.Add(shape, "query");
            data.Add(shape, "query_range");
        }

        return data;
    }

    private static string Ns(long ms) => (ms * 1_000_000).ToString(CultureInfo.InvariantCulture);

    private static Dictionary<string, string> Parameters(string query) => new()
    {
        ["query"] = query,
        ["time"] = Ns(QueryTestFlows.OriginMs + 3_600_000),
        ["start"] = Ns(QueryTestFlows.OriginMs + 3_600_000),
        ["end"] = Ns(QueryTestFlows.OriginMs + 3_600_000),
        ["step"] = "60s",
    };

    private static string Url(string endpoint, string query) => $"/loki/api/v1/{endpoint}?"
        + string.Join('&', Parameters(query).Select(p => p.Key + "=" + Uri.EscapeDataString(p.Value)));

    /// <summary>A fresh client asks for the flows of the default tenant: the server is up and reads its data.</summary>
    private async Task AssertServesGoodQueryAsync(string endpoint)
    {
        using var other = new HttpClient { BaseAddress = _fixture.Server.Http.BaseAddress, Timeout = Timeouts.Default };
        using var response = await other.GetAsync(
            Url(endpoint, "sum(count_over_time({app=\"netobserv-flowcollector\"}[1h]))")).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{response.StatusCode}: {body}");
        using var doc = JsonDocument.Parse(body);
        var result = Assert.Single(doc.RootElement.GetProperty("data").GetProperty("result").EnumerateArray().ToList());
        var value = endpoint == "query" ? result.GetProperty("value") : Assert.Single(result.GetProperty("values").EnumerateArray().ToList());
        Assert.Equal(_fixture.Flows.Count(f => f.Tenant == "default").ToString(CultureInfo.InvariantCulture), value[1].GetString());
    }

    private static async Task AssertRejectedAtAsync(HttpResponseMessage response, string shape, int count)
    {
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
        Assert.StartsWith(DeepLogQL.Position(DeepLogQL.RejectedAt(shape, count, Limit)), body, StringComparison.Ordinal);
        Assert.Contains("nesting", body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ShapesAndEndpoints))]
    public async Task Post_IssueSizedNesting_400WithPositionAndServerKeepsServing(string shape, string endpoint)
    {
        var count = DeepLogQL.IssueSizes[shape];
        using var form = new FormUrlEncodedContent(Parameters(DeepLogQL.Build(shape, count)));

        using var response = await _fixture.Server.Http.PostAsync("/loki/api/v1/" + endpoint, form).DefaultTimeout();

        await AssertRejectedAtAsync(response, shape, count);
        await AssertServesGoodQueryAsync(endpoint);
    }

    [Theory]
    [MemberData(nameof(ShapesAndEndpoints))]
    public async Task Get_NestingPastTheLimitWithinTheRequestLine_400WithPositionAndServerKeepsServing(string shape,
        string endpoint)
    {
        // The deepest query of the shape whose URL fits the request line.
        var count = DeepLogQL.IssueSizes[shape];
        while (Url(endpoint, DeepLogQL.Build(shape, count)).Length > RequestLineBytes - 100)
        {
            count = count * 9 / 10;
        }

        Assert.True(count > Limit, $"{shape}: {count}");

        using var response = await _fixture.Server.Http.GetAsync(Url(endpoint, DeepLogQL.Build(shape, count))).DefaultTimeout();

        await AssertRejectedAtAsync(response, shape, count);
        await AssertServesGoodQueryAsync(endpoint);
    }

    [Theory]
    [InlineData("query")]
    [InlineData("query_range")]
    public async Task Get_QueryLongerThanTheRequestLine_414AndServerKeepsServing(string endpoint)
    {
        var url = Url(endpoint, DeepLogQL.Build("parentheses", DeepLogQL.IssueSizes["parentheses"]));

        using var response = await _fixture.Server.Http.GetAsync(url).DefaultTimeout();

        Assert.Equal(HttpStatusCode.RequestUriTooLong, response.StatusCode);
        await AssertServesGoodQueryAsync(endpoint);
    }

    [Fact]
    public async Task Post_QueryLongerThanTheFormValueLimit_400AndServerKeepsServing()
    {
        // ASP.NET Core's form value limit (FormOptions.ValueLengthLimit, 4 MiB) bounds a POSTed query.
        using var form = new FormUrlEncodedContent(Parameters(new string('1', (4 * 1024 * 1024) + 1)));

        using var response = await _fixture.Server.Http.PostAsync("/loki/api/v1/query_range", form).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync().DefaultTimeout();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{response.StatusCode}: {body}");
        Assert.Contains("4194304", body, StringComparison.Ordinal);
        await AssertServesGoodQueryAsync("query_range");
    }

    [Fact]
    public async Task Post_DeepQueryAtTheFormValueLimit_400WithPosition()
    {
        // As long as a form value can hold ("1%2B" per term): rejected at the level past the limit.
        var count = ((4 * 1024 * 1024) - 100) / 4;
        using var form = new FormUrlEncodedContent(Parameters(DeepLogQL.Build("addition", count)));

        using var response = await _fixture.Server.Http.PostAsync("/loki/api/v1/query", form).DefaultTimeout();

        await AssertRejectedAtAsync(response, "addition", count);
        await AssertServesGoodQueryAsync("query");
    }

    [Fact]
    public async Task Post_BodyLargerThanKestrelsLimit_413AndServerKeepsServing()
    {
        // Kestrel's MaxRequestBodySize (30,000,000 bytes) bounds a form of values each within their limit.
        var parameters = Parameters("vector(1)");
        for (var i = 0; i < 8; i++)
        {
            parameters["pad" + i.ToString(CultureInfo.InvariantCulture)] = new string('x', 4_000_000);
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/loki/api/v1/query")
        {
            Content = new FormUrlEncodedContent(parameters),
        };
        // The answer comes before the body is sent (the server would close the connection while it is).
        request.Headers.ExpectContinue = true;

        using var response = await _fixture.Server.Http.SendAsync(request).DefaultTimeout();

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        await AssertServesGoodQueryAsync("query");
    }
}
