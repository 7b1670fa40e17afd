using System.Diagnostics;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>
/// The plugin as <c>deploy/grafana-plugin/build.sh</c> assembles it, built once per test run with
/// <c>--framework-dependent</c> (this machine's architecture, using the installed .NET runtime: the
/// self-contained publish of two architectures takes minutes and is the same code).
/// </summary>
internal static class PublishedPlugin
{
    public const string PluginId = "netobserv-flows-datasource";

    private static readonly Lazy<Task<string>> s_directory = new(BuildAsync);

    /// <summary>The project root (where the solution file is).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>The assembled plugin directory, <c>.../netobserv-flows-datasource</c>.</summary>
    public static Task<string> DirectoryAsync() => s_directory.Value;

    /// <summary>The plugin process for this machine's architecture, named as Grafana derives it from plugin.json.</summary>
    public static async Task<string> ExecutableAsync()
    {
        var directory = await DirectoryAsync();
        var arch = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64
            ? "arm64" : "amd64";
        return Path.Combine(directory, "gpx_netobserv_flows_linux_" + arch);
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "NetObserv.GrafanaBackend.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("project root not found above " + AppContext.BaseDirectory);
    }

    private static async Task<string> BuildAsync()
    {
        var output = Path.Combine(AppContext.BaseDirectory, "plugin-dist");
        var info = new ProcessStartInfo("bash")
        {
            ArgumentList = { Path.Combine(Root, "deploy", "grafana-plugin", "build.sh"), output, "--framework-dependent" },
            WorkingDirectory = Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(10));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"build.sh failed ({process.ExitCode}): {await stdout}\n{await stderr}");
        }

        return Path.Combine(output, PluginId);
    }
}
