using System.Text.Json;
using Grpc.Health.V1;
using NetObserv.Testing;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>The plugin process as go-plugin sees it: environment, handshake line, stderr logs, health service.</summary>
[Collection(PluginTestGroup.Name)]
public sealed class PluginProcessTests
{
    private readonly PluginFixture _fixture;

    public PluginProcessTests(PluginFixture fixture)
    {
        _fixture = fixture;
    }

    [Fact]
    public void Start_AsGrafanaDoes_HandshakeIsTheOnlyStdoutLine()
    {
        Assert.Matches(PluginProcess.HandshakeLine(), _fixture.Plugin.Handshake);
        Assert.Empty(_fixture.Plugin.LaterStdout);
    }

    [Fact]
    public async Task Start_AsGrafanaDoes_StderrIsHclogJson()
    {
        await Timeouts.WaitUntilAsync(() => Task.FromResult(_fixture.Plugin.Stderr.Count > 0), what: "a log line");

        Assert.All(_fixture.Plugin.Stderr, line =>
        {
            using var doc = JsonDocument.Parse(line);
            Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("@level").GetString()));
            Assert.False(string.IsNullOrEmpty(doc.RootElement.GetProperty("@message").GetString()));
            Assert.True(DateTimeOffset.TryParse(doc.RootElement.GetProperty("@timestamp").GetString(),
                System.Globalization.CultureInfo.InvariantCulture, out _));
        });
        Assert.Contains(_fixture.Plugin.Stderr, l => l.Contains("plugin serving on", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Health_PluginService_Serving()
    {
        var health = new Health.HealthClient(_fixture.Plugin.Channel);

        var response = await health.CheckAsync(new HealthCheckRequest { Service = "plugin" }).ResponseAsync.DefaultTimeout();

        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, response.Status);
    }

    [Fact]
    public async Task Shutdown_GoPluginController_ExitsZeroWithinSeconds()
    {
        await using var plugin = await PluginProcess.StartAsync();
        var controller = new Protocol.Controller.GRPCController.GRPCControllerClient(plugin.Channel);

        await controller.ShutdownAsync(new Protocol.Controller.Empty()).ResponseAsync.DefaultTimeout();

        Assert.Equal(0, await plugin.WaitForExitAsync(TimeSpan.FromSeconds(10)));
    }

    [Theory]
    [InlineData("grafana_plugin_type", null)]
    [InlineData("grafana_plugin_type", "renderer")]
    [InlineData("PLUGIN_PROTOCOL_VERSIONS", "1")]
    public async Task Start_NotAsGrafanaDoes_ExitsWithoutAHandshake(string variable, string? value)
    {
        var environment = PluginProcess.GrafanaEnvironment();
        environment[variable] = value;
        using var process = PluginProcess.Launch(await PublishedPlugin.ExecutableAsync(), environment);

        var stdout = await process.StandardOutput.ReadToEndAsync().DefaultTimeout();
        var stderr = await process.StandardError.ReadToEndAsync().DefaultTimeout();
        await process.WaitForExitAsync().DefaultTimeout();

        Assert.Equal(1, process.ExitCode);
        Assert.Empty(stdout);
        using var log = JsonDocument.Parse(stderr.Trim());
        Assert.Equal("error", log.RootElement.GetProperty("@level").GetString());
        Assert.Contains(variable, log.RootElement.GetProperty("@message").GetString(), StringComparison.Ordinal);
    }
}
