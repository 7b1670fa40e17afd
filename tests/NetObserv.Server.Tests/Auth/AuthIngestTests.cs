using System.Net;
using System.Net.Http.Headers;
using Grpc.Core;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Server.Tests.Ingest;
using NetObserv.Server.Tests.Ingest.LokiPush;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Auth;

/// <summary>A server with the tokens file and an empty database, written to through Loki push and gRPC.</summary>
public sealed class AuthIngestFixture : IAsyncLifetime
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "netobserv-tokens-" + Guid.NewGuid().ToString("N") + ".yaml");

    internal RunningServer Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllTextAsync(_path, AuthServerFixture.TokensYaml);
        Server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Auth:TokensFile"] = _path,
            ["Storage:FlushInterval"] = "00:00:00.050",
            ["Auth:MetricsRequireToken"] = "true",
        });
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        File.Delete(_path);
    }
}

/// <summary>Who may write, and into which tenant, over Loki push and gRPC ingest.</summary>
public sealed class AuthIngestTests(AuthIngestFixture fixture) : IClassFixture<AuthIngestFixture>
{
    private async Task<HttpResponseMessage> PushAsync(string token, string id, string? tenant = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/loki/api/v1/push", UriKind.Relative))
        {
            Content = AuthApiTests.PushContent(id),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (tenant is not null)
        {
            request.Headers.Add("X-Scope-OrgID", tenant);
        }

        return await fixture.Server.Http.SendAsync(request).DefaultTimeout();
    }

    [Fact]
    public async Task Push_PushTokenWithoutTenantHeader_WritesIntoItsFirstTenant()
    {
        using var response = await PushAsync(AuthServerFixture.PushToken, "push-default");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        await Timeouts.WaitUntilAsync(async () =>
            await PushFlowRows.CountAsync(fixture.Server.ConnectionString, "team-push") >= 1, what: "the pushed row");
    }

    [Fact]
    public async Task Push_QueryOnlyToken_Answers403AndStoresNothing()
    {
        using var refused = await PushAsync(AuthServerFixture.QueryToken, "query-only", "other");
        using var accepted = await PushAsync(AuthServerFixture.BothToken, "both");

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, accepted.StatusCode);
        await Timeouts.WaitUntilAsync(async () =>
            await PushFlowRows.CountAsync(fixture.Server.ConnectionString, "default") >= 1, what: "the accepted row");
        Assert.Equal(0, await PushFlowRows.CountAsync(fixture.Server.ConnectionString, "other"));
    }

    [Fact]
    public async Task GrpcIngest_Matrix_TokenDecidesAndTenantFollowsIt()
    {
        using var channel = GrpcIngestClient.Channel(fixture.Server.GrpcPort);
        var client = new Flows.Pbflow.Collector.CollectorClient(channel);
        var batch = GrpcIngestClient.Batch(3, 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 5_000);

        var none = await Assert.ThrowsAsync<RpcException>(() => client.SendAsync(batch).ResponseAsync.DefaultTimeout());
        var wrong = await Assert.ThrowsAsync<RpcException>(() =>
            client.SendAsync(batch, AuthApiTests.Headers("Bearer nope")).ResponseAsync.DefaultTimeout());
        var queryOnly = await Assert.ThrowsAsync<RpcException>(() =>
            client.SendAsync(batch, AuthApiTests.Headers("Bearer " + AuthServerFixture.QueryToken)).ResponseAsync.DefaultTimeout());
        var outside = await Assert.ThrowsAsync<RpcException>(() =>
            client.SendAsync(batch, AuthApiTests.Headers("Bearer " + AuthServerFixture.PushToken, "default")).ResponseAsync.DefaultTimeout());
        await client.SendAsync(batch, AuthApiTests.Headers("Bearer " + AuthServerFixture.PushToken, "team-push-2"))
            .ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.Unauthenticated, none.StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, queryOnly.StatusCode);
        Assert.Equal(StatusCode.PermissionDenied, outside.StatusCode);
        await Timeouts.WaitUntilAsync(async () =>
            await PushFlowRows.CountAsync(fixture.Server.ConnectionString, "team-push-2") >= 3, what: "the gRPC rows");
    }

    [Fact]
    public async Task Metrics_WithMetricsRequireToken_NeedsAnyValidToken()
    {
        using var none = await fixture.Server.Http.GetAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/metrics", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AuthServerFixture.PushToken);
        using var push = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
        using var ready = await fixture.Server.Http.GetAsync(new Uri("/ready", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Equal(HttpStatusCode.OK, push.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Fact]
    public async Task Collector_OnHttpPort_IsNotServed()
    {
        using var h2c = new HttpClient { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionOrLower };
        using var response = await h2c.PostAsync(new Uri($"http://127.0.0.1:{fixture.Server.HttpPort}/pbflow.Collector/Send"),
            new ByteArrayContent([])).DefaultTimeout();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
