using System.Net;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Hosting;

public sealed class OperationalEndpointsTests
{
    [Fact]
    public async Task Ready_AfterStart_Answers200()
    {
        await using var server = await RunningServer.StartAsync();

        using var ready = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative)).DefaultTimeout();
        using var health = await server.Http.GetAsync(new Uri("/healthz", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Metrics_Scraped_IsPrometheusText()
    {
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Http.GetAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }
}
