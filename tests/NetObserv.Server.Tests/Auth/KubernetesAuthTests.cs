using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using NetObserv.Flows;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Auth;

/// <summary>The query test flows served with <c>Auth:Mode=kubernetes</c> against <see cref="FakeReviewApi"/>.</summary>
public sealed class KubernetesAuthFixture() : QueryServerFixture(
    [.. QueryTestFlows.Generate(300, seed: 31)], Settings()), IDisposable
{
    public const string AdminToken = "k8s-admin-token";
    public const string AliceToken = "k8s-alice-token";
    public const string CarolToken = "k8s-carol-token";
    public const string DaveToken = "k8s-dave-token";
    public const string NobodyToken = "k8s-nobody-token";
    public const string WriterToken = "k8s-flp-token";

    private static FakeReviewApi? s_api;
    private static string? s_kubeconfig;

    internal static FakeReviewApi Api => s_api!;

    private static Dictionary<string, string?> Settings()
    {
        s_api = new FakeReviewApi(new Dictionary<string, (string, string[])>(StringComparer.Ordinal)
        {
            [AdminToken] = ("admin", ["*"]),
            [AliceToken] = ("alice", ["ns-a"]),
            [CarolToken] = ("carol", ["ns-b", "ns-c"]),
            [DaveToken] = ("dave", ["ns-a"]),
            [NobodyToken] = ("nobody", []),
            [WriterToken] = ("system:serviceaccount:netobserv:flowlogs-pipeline", [FakeReviewApi.PushGrant]),
        }, [.. QueryTestFlows.Namespaces, "empty-ns"]);
        s_kubeconfig = s_api.WriteKubeconfig(Path.Combine(Path.GetTempPath(), "netobserv-kubeconfig-" + Guid.NewGuid().ToString("N")));
        return new Dictionary<string, string?>
        {
            ["Auth:Mode"] = "kubernetes",
            ["Auth:Kubeconfig"] = s_kubeconfig,
            ["Auth:KubernetesCacheTtl"] = "00:01:00",
            ["Auth:KubernetesTimeout"] = "00:00:05",
        };
    }

    public void Dispose()
    {
        Api.DisposeAsync().AsTask().GetAwaiter().GetResult();
        File.Delete(s_kubeconfig!);
    }
}

/// <summary>Kubernetes identities: allowed everywhere, in some namespaces, nowhere; cached; review server down.</summary>
public sealed class KubernetesAuthTests(KubernetesAuthFixture fixture) : IClassFixture<KubernetesAuthFixture>
{
    private static long Ms(int minutes) => QueryTestFlows.OriginMs + (minutes * 60_000L);

    private static string CountUrl => "/loki/api/v1/query?query="
        + Uri.EscapeDataString("sum(count_over_time({app=\"netobserv-flowcollector\"}[1h]))")
        + "&time=" + (Ms(31) * 1_000_000).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private async Task<(HttpStatusCode Status, double Count)> CountAsync(string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(CountUrl, UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (response.StatusCode, 0);
        }

        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var result = json.RootElement.GetProperty("data").GetProperty("result");
        return (response.StatusCode, result.GetArrayLength() == 0 ? 0
            : double.Parse(result[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture));
    }

    private int Visible(params string[] namespaces) => fixture.Flows.Count(f => f.Tenant == FlowRecord.DefaultTenant
        && (namespaces.Contains(f.SrcNamespace) || namespaces.Contains(f.DstNamespace)));

    [Fact]
    public async Task ClusterWideGetPods_SeesEveryNamespace()
    {
        var (status, count) = await CountAsync(KubernetesAuthFixture.AdminToken);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(fixture.Flows.Count, count);
    }

    [Fact]
    public async Task GetPodsInSomeNamespaces_SeesOnlyTheirFlows()
    {
        var alice = await CountAsync(KubernetesAuthFixture.AliceToken);
        var carol = await CountAsync(KubernetesAuthFixture.CarolToken);

        Assert.Equal((HttpStatusCode.OK, (double)Visible("ns-a")), alice);
        Assert.Equal((HttpStatusCode.OK, (double)Visible("ns-b", "ns-c")), carol);
        Assert.True(alice.Count < fixture.Flows.Count);
    }

    [Fact]
    public async Task NoNamespace_Answers403AndUnknownToken401()
    {
        var nobody = await CountAsync(KubernetesAuthFixture.NobodyToken);
        var unknown = await CountAsync("not-a-kubernetes-token");

        Assert.Equal(HttpStatusCode.Forbidden, nobody.Status);
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.Status);
    }

    [Fact]
    public async Task Push_WriterServiceAccountMayAndReaderMayNot()
    {
        async Task<HttpStatusCode> PushAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/loki/api/v1/push", UriKind.Relative))
            {
                Content = AuthApiTests.PushContent("k8s-" + token),
            };
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await fixture.Server.Http.SendAsync(request).DefaultTimeout();
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.NoContent, await PushAsync(KubernetesAuthFixture.WriterToken));
        Assert.Equal(HttpStatusCode.Forbidden, await PushAsync(KubernetesAuthFixture.AdminToken));
        Assert.Equal(HttpStatusCode.Forbidden, (await CountAsync(KubernetesAuthFixture.WriterToken)).Status);
    }

    [Fact]
    public async Task SameTokenAgain_IsAnsweredFromTheCache()
    {
        var first = await CountAsync(KubernetesAuthFixture.DaveToken);
        var reviews = KubernetesAuthFixture.Api.TokenReviews;

        var second = await CountAsync(KubernetesAuthFixture.DaveToken);

        Assert.Equal(first, second);
        Assert.Equal(reviews, KubernetesAuthFixture.Api.TokenReviews);
    }

    [Fact]
    public async Task ReviewServerDown_Answers503NotOpen()
    {
        KubernetesAuthFixture.Api.Down = true;
        try
        {
            var (status, _) = await CountAsync("k8s-token-never-seen");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        }
        finally
        {
            KubernetesAuthFixture.Api.Down = false;
        }

        // The failure was not cached: the same token is reviewed again once the server is back (and is unknown).
        Assert.Equal(HttpStatusCode.Unauthorized, (await CountAsync("k8s-token-never-seen")).Status);
    }
}
