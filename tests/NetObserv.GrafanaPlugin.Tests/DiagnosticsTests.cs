using System.Diagnostics;
using NetObserv.GrafanaPlugin.Protocol;
using NetObserv.Testing;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary><c>CheckHealth</c> against a backend that answers and one that does not; <c>CollectMetrics</c>.</summary>
[Collection(PluginTestGroup.Name)]
public sealed class DiagnosticsTests
{
    private readonly PluginFixture _fixture;

    public DiagnosticsTests(PluginFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public async Task CheckHealth_BackendUp_OkWithItsVersion()
    {
        var response = await _fixture.Diagnostics.CheckHealthAsync(new CheckHealthRequest { PluginContext = _fixture.Context() })
            .ResponseAsync.DefaultTimeout();

        Assert.Equal(CheckHealthResponse.Types.HealthStatus.Ok, response.Status);
        Assert.Contains("netobserv-backend-", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CheckHealth_NothingListening_ErrorWithTheReasonWithinSeconds()
    {
        var url = PluginFixture.ClosedUrl();
        var stopwatch = Stopwatch.StartNew();

        var response = await _fixture.Diagnostics.CheckHealthAsync(new CheckHealthRequest { PluginContext = PluginFixture.Context(url) })
            .ResponseAsync.DefaultTimeout();

        Assert.Equal(CheckHealthResponse.Types.HealthStatus.Error, response.Status);
        Assert.Contains(url, response.Message, StringComparison.Ordinal);
        Assert.Contains("Unavailable", response.Message, StringComparison.Ordinal);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(10), stopwatch.Elapsed.ToString());
    }

    [Fact]
    public async Task CheckHealth_UrlNotHttp_ErrorNamingTheUrl()
    {
        var response = await _fixture.Diagnostics.CheckHealthAsync(
            new CheckHealthRequest { PluginContext = PluginFixture.Context("netobserv-backend:9090") }).ResponseAsync.DefaultTimeout();

        Assert.Equal(CheckHealthResponse.Types.HealthStatus.Error, response.Status);
        Assert.Contains("not an http:// or https:// address", response.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CollectMetrics_AfterAHealthCheck_PrometheusTextWithItsCounters()
    {
        await _fixture.Diagnostics.CheckHealthAsync(new CheckHealthRequest { PluginContext = _fixture.Context() })
            .ResponseAsync.DefaultTimeout();

        var response = await _fixture.Diagnostics.CollectMetricsAsync(new CollectMetricsRequest { PluginContext = _fixture.Context() })
            .ResponseAsync.DefaultTimeout();

        var text = response.Metrics.Prometheus.ToStringUtf8();
        Assert.Contains("# TYPE netobserv_plugin_health_checks_total counter", text, StringComparison.Ordinal);
        Assert.Matches(@"(?m)^netobserv_plugin_health_checks_total [1-9]\d*$", text);
    }
}
