using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using NetObserv.Flows;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Query.Grpc.V1;
using NetObserv.Server.Tests.Ingest;
using NetObserv.Server.Tests.Ingest.LokiPush;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Auth;

/// <summary>
/// The tokens file over real HTTP and gRPC clients: no credentials, bearer, basic, a wrong token, a tenant
/// outside the token, a query-only token pushing, and a namespace-restricted token whose answers, label values
/// and series hold only flows from or to its namespace.
/// </summary>
public sealed class AuthApiTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>
{
    private const string AllFlows = "{app=\"netobserv-flowcollector\"}";

    private static long Ms(int minutes) => QueryTestFlows.OriginMs + (minutes * 60_000L);

    private static string Ns(long ms) => (ms * 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static string CountUrl => "/loki/api/v1/query?query="
        + Uri.EscapeDataString($"sum(count_over_time({AllFlows}[1h]))") + "&time=" + Ns(Ms(31));

    private static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);

    private static AuthenticationHeaderValue Basic(string user, string token) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + token)));

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string url, AuthenticationHeaderValue? auth,
        string? tenant = null, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, new Uri(url, UriKind.Relative)) { Content = content };
        request.Headers.Authorization = auth;
        if (tenant is not null)
        {
            request.Headers.Add("X-Scope-OrgID", tenant);
        }

        return await fixture.Server.Http.SendAsync(request).DefaultTimeout();
    }

    private async Task<JsonElement> JsonAsync(string url, AuthenticationHeaderValue auth, string? tenant = null)
    {
        using var response = await SendAsync(HttpMethod.Get, url, auth, tenant);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static double Count(JsonElement answer)
    {
        var result = answer.GetProperty("data").GetProperty("result");
        return result.GetArrayLength() == 0 ? 0
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }

    private int Flows(string tenant) => fixture.Flows.Count(f => f.Tenant == tenant);

    private List<QueryTestFlow> Visible => fixture.Flows.Where(f => f.Tenant == FlowRecord.DefaultTenant
        && (f.SrcNamespace == AuthServerFixture.RestrictedNamespace || f.DstNamespace == AuthServerFixture.RestrictedNamespace))
        .ToList();

    [Theory]
    [InlineData("/loki/api/v1/query?query=vector(1)%2Bvector(1)&time=4000000000")]
    [InlineData("/loki/api/v1/query_range?query=%7Bapp%3D%22netobserv-flowcollector%22%7D")]
    [InlineData("/loki/api/v1/labels")]
    [InlineData("/loki/api/v1/label/SrcK8S_Namespace/values")]
    [InlineData("/loki/api/v1/series?match[]=%7Bapp%3D%22netobserv-flowcollector%22%7D")]
    [InlineData("/loki/api/v1/index/stats?query=%7Bapp%3D%22netobserv-flowcollector%22%7D")]
    public async Task LokiApi_NoCredentials_Answers401WithChallenge(string url)
    {
        using var response = await SendAsync(HttpMethod.Get, url, null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
    }

    [Fact]
    public async Task Push_NoCredentials_Answers401()
    {
        using var response = await SendAsync(HttpMethod.Post, "/loki/api/v1/push", null, content: PushContent("nocred"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Query_WrongToken_Answers401()
    {
        using var bearer = await SendAsync(HttpMethod.Get, CountUrl, Bearer("not-a-token"));
        using var basic = await SendAsync(HttpMethod.Get, CountUrl, Basic("grafana", "not-a-token"));
        using var garbled = await SendAsync(HttpMethod.Get, CountUrl, new AuthenticationHeaderValue("Basic", "%%%"));
        using var digest = await SendAsync(HttpMethod.Get, CountUrl, new AuthenticationHeaderValue("Digest", AuthServerFixture.QueryToken));

        Assert.Equal(HttpStatusCode.Unauthorized, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, basic.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, garbled.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, digest.StatusCode);
    }

    [Fact]
    public async Task Query_BearerWithoutTenantHeader_ReadsTheTokensFirstTenant()
    {
        var answer = await JsonAsync(CountUrl, Bearer(AuthServerFixture.QueryToken));

        Assert.Equal(Flows(FlowRecord.DefaultTenant), Count(answer));
    }

    [Fact]
    public async Task Query_BasicWithTokenAsPassword_Answers()
    {
        var answer = await JsonAsync(CountUrl, Basic("grafana", AuthServerFixture.QueryToken), "other");

        Assert.Equal(Flows("other"), Count(answer));
    }

    [Fact]
    public async Task Query_SeveralTenantsAllGranted_ReadsThemAll()
    {
        var answer = await JsonAsync(CountUrl, Bearer(AuthServerFixture.QueryToken), "default|other");

        Assert.Equal(fixture.Flows.Count, Count(answer));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("default|nope")]
    [InlineData("other")]
    public async Task Query_TenantOutsideToken_Answers403(string tenant)
    {
        // The both-token holds only "default".
        using var response = await SendAsync(HttpMethod.Get, CountUrl, Bearer(AuthServerFixture.BothToken), tenant);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Query_PushOnlyToken_Answers403()
    {
        using var response = await SendAsync(HttpMethod.Get, CountUrl, Bearer(AuthServerFixture.PushToken));

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Push_TenantHeaderOutsideToken_Answers403()
    {
        using var outside = await SendAsync(HttpMethod.Post, "/loki/api/v1/push", Bearer(AuthServerFixture.PushToken),
            "default", PushContent("outside"));
        using var two = await SendAsync(HttpMethod.Post, "/loki/api/v1/push", Basic("flp", AuthServerFixture.PushToken),
            "team-push|team-push-2", PushContent("two"));

        Assert.Equal(HttpStatusCode.Forbidden, outside.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, two.StatusCode);
    }

    [Theory]
    [InlineData("/ready")]
    [InlineData("/healthz")]
    [InlineData("/metrics")]
    public async Task Operational_NoCredentials_StaysOpen(string url)
    {
        using var response = await SendAsync(HttpMethod.Get, url, null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        if (url == "/ready")
        {
            Assert.DoesNotContain("warning", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task NamespaceToken_MetricAnswer_HoldsOnlyFlowsOfItsNamespace()
    {
        var url = "/loki/api/v1/query?query="
            + Uri.EscapeDataString($"sum by (SrcK8S_Namespace, DstK8S_Namespace) (count_over_time({AllFlows}[1h]))")
            + "&time=" + Ns(Ms(31));

        var answer = await JsonAsync(url, Bearer(AuthServerFixture.NamespaceToken));

        var total = 0.0;
        foreach (var series in answer.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            var metric = series.GetProperty("metric");
            Assert.True(Has(metric, "SrcK8S_Namespace", AuthServerFixture.RestrictedNamespace)
                || Has(metric, "DstK8S_Namespace", AuthServerFixture.RestrictedNamespace), metric.ToString());
            total += double.Parse(series.GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        }

        Assert.Equal(Visible.Count, total);
        Assert.True(Visible.Count < Flows(FlowRecord.DefaultTenant));
    }

    [Fact]
    public async Task NamespaceToken_LogLines_AreOnlyFlowsOfItsNamespace()
    {
        var url = "/loki/api/v1/query_range?limit=5000&query=" + Uri.EscapeDataString(AllFlows)
            + "&start=" + Ns(Ms(-1)) + "&end=" + Ns(Ms(31));

        var answer = await JsonAsync(url, Bearer(AuthServerFixture.NamespaceToken));

        var lines = 0;
        foreach (var stream in answer.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            foreach (var value in stream.GetProperty("values").EnumerateArray())
            {
                using var line = JsonDocument.Parse(value[1].GetString()!);
                Assert.True(Has(line.RootElement, "SrcK8S_Namespace", AuthServerFixture.RestrictedNamespace)
                    || Has(line.RootElement, "DstK8S_Namespace", AuthServerFixture.RestrictedNamespace));
                lines++;
            }
        }

        Assert.Equal(Visible.Count, lines);
    }

    [Fact]
    public async Task NamespaceToken_LabelValues_AreThoseOfItsFlows()
    {
        var range = "?start=" + Ns(Ms(-1)) + "&end=" + Ns(Ms(31));

        var src = await JsonAsync("/loki/api/v1/label/SrcK8S_Namespace/values" + range, Bearer(AuthServerFixture.NamespaceToken));
        var dst = await JsonAsync("/loki/api/v1/label/DstK8S_Namespace/values" + range, Bearer(AuthServerFixture.NamespaceToken));

        Assert.Equal(Visible.Select(f => f.SrcNamespace).OfType<string>().Distinct().Order(StringComparer.Ordinal),
            src.GetProperty("data").EnumerateArray().Select(v => v.GetString()!));
        Assert.Equal(Visible.Select(f => f.DstNamespace).Distinct().Order(StringComparer.Ordinal),
            dst.GetProperty("data").EnumerateArray().Select(v => v.GetString()!));
    }

    [Fact]
    public async Task NamespaceToken_Series_InvolveOnlyItsNamespace()
    {
        var url = "/loki/api/v1/series?match[]=" + Uri.EscapeDataString(AllFlows) + "&start=" + Ns(Ms(-1)) + "&end=" + Ns(Ms(31));

        var answer = await JsonAsync(url, Bearer(AuthServerFixture.NamespaceToken));

        var series = answer.GetProperty("data").EnumerateArray().ToList();
        Assert.NotEmpty(series);
        Assert.All(series, s => Assert.True(Has(s, "SrcK8S_Namespace", AuthServerFixture.RestrictedNamespace)
            || Has(s, "DstK8S_Namespace", AuthServerFixture.RestrictedNamespace), s.ToString()));
        Assert.Equal(Visible.Select(f => (f.SrcNamespace ?? "", f.DstNamespace)).Distinct().Count(),
            series.Select(s => (Text(s, "SrcK8S_Namespace"), Text(s, "DstK8S_Namespace"))).Distinct().Count());
    }

    [Fact]
    public async Task NamespaceToken_IndexStats_CountOnlyItsFlows()
    {
        var url = "/loki/api/v1/index/stats?query=" + Uri.EscapeDataString(AllFlows) + "&start=" + Ns(Ms(-1)) + "&end=" + Ns(Ms(31));

        var answer = await JsonAsync(url, Bearer(AuthServerFixture.NamespaceToken));

        Assert.Equal(Visible.Count, answer.GetProperty("entries").GetInt64());
    }

    [Fact]
    public async Task GrpcPort_ServesHealthButNoLokiApi()
    {
        using var channel = GrpcIngestClient.Channel(fixture.Server.GrpcPort);
        var health = await new Health.HealthClient(channel).CheckAsync(new HealthCheckRequest()).ResponseAsync.DefaultTimeout();
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{fixture.Server.GrpcPort}{CountUrl}")
        {
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Headers.Authorization = Bearer(AuthServerFixture.QueryToken);
        using var loki = await h2c.SendAsync(request).DefaultTimeout();
        using var metrics = await h2c.GetAsync(new Uri($"http://127.0.0.1:{fixture.Server.GrpcPort}/metrics")).DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
        Assert.Equal(HttpStatusCode.NotFound, loki.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
    }

    internal static Metadata Headers(string authorization, string? tenant = null)
    {
        var metadata = new Metadata { { "authorization", authorization } };
        if (tenant is not null)
        {
            metadata.Add("x-scope-orgid", tenant);
        }

        return metadata;
    }

    private static string Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var property) ? property.GetString() ?? "" : "";

    private static bool Has(JsonElement element, string name, string value) =>
        element.TryGetProperty(name, out var property) && property.ValueKind == JsonValueKind.String
        && property.GetString() == value;

    internal static ByteArrayContent PushContent(string id)
    {
        var record = PushValidationTests.Flow(id, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 10_000);
        var content = new ByteArrayContent(PushBodies.Json([PushBodies.FlpStream(record)]));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    // The gRPC query API (netobserv.query.v1.QueryService) under the same tokens.
    private static TimeRange GrpcRange => new()
    {
        StartUnixNano = (QueryTestFlows.OriginMs - 60_000) * 1_000_000,
        EndUnixNano = (QueryTestFlows.OriginMs + (40 * 60_000)) * 1_000_000,
    };

    private async Task<LabelValuesResponse> GrpcLabelValuesAsync(string? token, string? tenant = null)
    {
        var headers = new Metadata();
        if (token is not null)
        {
            headers.Add("authorization", "Bearer " + token);
        }

        if (tenant is not null)
        {
            headers.Add("x-scope-orgid", tenant);
        }

        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{fixture.Server.QueryGrpcPort}");
        var client = new QueryService.QueryServiceClient(channel);
        return await client.LabelValuesAsync(new LabelValuesRequest { Name = "SrcK8S_OwnerName", Range = GrpcRange }, headers)
            .ResponseAsync.DefaultTimeout();
    }

    [Theory]
    [InlineData(null, null, StatusCode.Unauthenticated)]
    [InlineData("wrong-token", null, StatusCode.Unauthenticated)]
    [InlineData(AuthServerFixture.PushToken, null, StatusCode.PermissionDenied)]
    [InlineData(AuthServerFixture.BothToken, "other", StatusCode.PermissionDenied)]
    public async Task QueryGrpc_WithoutTheRightToken_Refused(string? token, string? tenant, StatusCode expected)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => GrpcLabelValuesAsync(token, tenant));

        Assert.Equal(expected, error.StatusCode);
    }

    [Fact]
    public async Task QueryGrpc_QueryTokenAndNamespaceToken_SeeTheirFlows()
    {
        var all = await GrpcLabelValuesAsync(AuthServerFixture.QueryToken);
        var restricted = await GrpcLabelValuesAsync(AuthServerFixture.NamespaceToken);

        var expectedAll = fixture.Flows.Where(f => f.Tenant == "default" && f.SrcOwner is not null)
            .Select(f => f.SrcOwner!).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedAll, all.Values.Order(StringComparer.Ordinal).ToList());
        Assert.True(expectedAll.Count > 1);
        var expectedRestricted = fixture.Flows.Where(f => f.Tenant == "default" && f.SrcOwner is not null
                && (f.SrcNamespace == AuthServerFixture.RestrictedNamespace || f.DstNamespace == AuthServerFixture.RestrictedNamespace))
            .Select(f => f.SrcOwner!).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedRestricted, restricted.Values.Order(StringComparer.Ordinal).ToList());

        // The flow table: every row the restricted token reads is from or to its namespace, and it reads fewer.
        var allRows = await GrpcFlowsAsync(AuthServerFixture.QueryToken);
        var restrictedRows = await GrpcFlowsAsync(AuthServerFixture.NamespaceToken);
        Assert.NotEmpty(restrictedRows);
        Assert.All(restrictedRows, r => Assert.True(r.SrcK8SNamespace == AuthServerFixture.RestrictedNamespace
            || r.DstK8SNamespace == AuthServerFixture.RestrictedNamespace));
        Assert.True(restrictedRows.Count < allRows.Count);
    }

    private async Task<List<FlowRow>> GrpcFlowsAsync(string token)
    {
        using var channel = GrpcChannel.ForAddress($"http://127.0.0.1:{fixture.Server.QueryGrpcPort}");
        var client = new QueryService.QueryServiceClient(channel);
        using var call = client.QueryFlows(new FlowsRequest { Range = GrpcRange, Limit = 5000 },
            new Metadata { { "authorization", "Bearer " + token } });
        var rows = new List<FlowRow>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            rows.Add(call.ResponseStream.Current);
        }

        return rows;
    }
}
