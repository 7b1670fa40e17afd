using System.Net;
using System.Text;
using Microsoft.AspNetCore.Http;
using NetObserv.Server.Tenants;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Tenants;

/// <summary>Per-tenant queries in flight and push rate: 429 past them, other tenants unaffected.</summary>
public sealed class TenantLimitsTests
{
    private static DefaultHttpContext Request(string path, string tenant)
    {
        var context = new DefaultHttpContext();
        context.Request.Path = path;
        context.Request.Headers["X-Scope-OrgID"] = tenant;
        context.Response.Body = new MemoryStream();
        return context;
    }

    [Fact]
    public async Task Queries_PastTheTenantsInFlightLimit_Answer429WhileOtherTenantsPass()
    {
        var limits = new TenantLimits(new TenantLimitsOptions { MaxQueriesInFlight = 1 }, TimeProvider.System, "default");
        var release = new TaskCompletionSource();
        var running = limits.InvokeAsync(Request("/loki/api/v1/query_range", "a"), _ => release.Task);

        var second = Request("/loki/api/v1/query", "a");
        await limits.InvokeAsync(second, _ => Task.CompletedTask).DefaultTimeout();
        var other = Request("/loki/api/v1/query", "b");
        await limits.InvokeAsync(other, _ => Task.CompletedTask).DefaultTimeout();
        var both = Request("/loki/api/v1/query", "a|b");
        await limits.InvokeAsync(both, _ => Task.CompletedTask).DefaultTimeout();
        release.SetResult();
        await running.DefaultTimeout();
        var after = Request("/loki/api/v1/query", "a");
        await limits.InvokeAsync(after, _ => Task.CompletedTask).DefaultTimeout();

        Assert.Equal(StatusCodes.Status429TooManyRequests, second.Response.StatusCode);
        second.Response.Body.Position = 0;
        Assert.Contains("Tenants:MaxQueriesInFlight", new StreamReader(second.Response.Body).ReadToEnd(), StringComparison.Ordinal);
        Assert.Equal(StatusCodes.Status200OK, other.Response.StatusCode);
        Assert.Equal(StatusCodes.Status429TooManyRequests, both.Response.StatusCode);
        Assert.Equal(StatusCodes.Status200OK, after.Response.StatusCode);
    }

    [Fact]
    public async Task Push_OverTheTenantsRate_Answers429AndOtherTenantsPass()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Tenants:PushBytesPerSecond"] = "1",
            ["Tenants:PushBurstBytes"] = "1024",
        });
        async Task<HttpStatusCode> PushAsync(string tenant)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/loki/api/v1/push", UriKind.Relative))
            {
                Content = new StringContent("{\"streams\":[{\"stream\":{\"app\":\"x\"},\"values\":[]}], \"pad\":\"" + new string('x', 400) + "\"}",
                    Encoding.UTF8, "application/json"),
            };
            request.Headers.Add("X-Scope-OrgID", tenant);
            using var response = await server.Http.SendAsync(request).DefaultTimeout();
            return response.StatusCode;
        }

        var first = await PushAsync("rate-a");
        var second = await PushAsync("rate-a");
        var third = await PushAsync("rate-a");
        var other = await PushAsync("rate-b");

        Assert.NotEqual(HttpStatusCode.TooManyRequests, first);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, second);
        Assert.Equal(HttpStatusCode.TooManyRequests, third);
        Assert.NotEqual(HttpStatusCode.TooManyRequests, other);
    }
}
