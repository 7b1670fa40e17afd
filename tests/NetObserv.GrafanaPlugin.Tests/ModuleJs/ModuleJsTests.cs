using System.Diagnostics;
using System.Text.Json;
using NetObserv.Testing;

namespace NetObserv.GrafanaPlugin.Tests.ModuleJs;

/// <summary>
/// The plugin's <c>module.js</c> loaded by <c>load-module.js</c> under Node.js: a minimal AMD loader
/// supplying stand-ins for <c>@grafana/data</c>, <c>@grafana/runtime</c>, <c>@grafana/ui</c> and
/// <c>react</c>, checking the plugin it registers, its config and query editors and its data source.
/// </summary>
public sealed class ModuleJsTests
{
    [Fact]
    public async Task Load_InAnAmdLoader_RegistersADataSourcePluginWithBothEditors()
    {
        var module = Path.Combine(PublishedPlugin.Root, "deploy", "grafana-plugin", "module.js");
        var info = new ProcessStartInfo("node")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "ModuleJs", "load-module.js"), module },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = await process.StandardOutput.ReadToEndAsync().DefaultTimeout();
        var stderr = await process.StandardError.ReadToEndAsync().DefaultTimeout();
        await process.WaitForExitAsync().DefaultTimeout();

        Assert.True(process.ExitCode == 0, stdout + stderr);
        using var report = JsonDocument.Parse(stdout);
        Assert.Empty(report.RootElement.GetProperty("failures").EnumerateArray());
        Assert.Equal(1, report.RootElement.GetProperty("queryTypes").GetProperty("logql").GetProperty("textAreas").GetInt32());
    }
}
