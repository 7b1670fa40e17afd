using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Grpc.Net.Client;

namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>
/// The plugin executable started as Grafana's plugin host (go-plugin) starts it: the magic cookie and
/// the offered protocol versions in its environment, the handshake line read from its stdout, then a
/// gRPC channel to the address the line names. Killed on dispose, as Grafana stops plugins.
/// </summary>
internal sealed partial class PluginProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stderr;
    private readonly ConcurrentQueue<string> _stdout;

    private PluginProcess(Process process, string handshake, ConcurrentQueue<string> stdout, ConcurrentQueue<string> stderr)
    {
        _process = process;
        _stdout = stdout;
        _stderr = stderr;
        Handshake = handshake;
        var m = HandshakeLine().Match(handshake);
        Channel = GrpcChannel.ForAddress("http://" + m.Groups["address"].Value);
    }

    public string Handshake { get; }

    public GrpcChannel Channel { get; }

    /// <summary>stdout after the handshake line (expected: nothing).</summary>
    public IReadOnlyCollection<string> LaterStdout => _stdout;

    public IReadOnlyCollection<string> Stderr => _stderr;

    /// <summary>Waits for the process to exit; returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        await _process.WaitForExitAsync().WaitAsync(timeout);
        return _process.ExitCode;
    }

    /// <summary><c>CORE|APP|tcp|127.0.0.1:port|grpc</c>, go-plugin's format with the versions Grafana accepts.</summary>
    [GeneratedRegex(@"^1\|2\|tcp\|(?<address>127\.0\.0\.1:\d{1,5})\|grpc$")]
    public static partial Regex HandshakeLine();

    /// <summary>The environment go-plugin gives a plugin, plus DOTNET_ROOT for the framework-dependent test build.</summary>
    public static Dictionary<string, string?> GrafanaEnvironment() => new(StringComparer.Ordinal)
    {
        ["grafana_plugin_type"] = "datasource",
        ["PLUGIN_PROTOCOL_VERSIONS"] = "2",
        ["PLUGIN_MIN_PORT"] = "10000",
        ["PLUGIN_MAX_PORT"] = "25000",
        ["DOTNET_ROOT"] = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..")),
    };

    public static Process Launch(string executable, IReadOnlyDictionary<string, string?> environment)
    {
        var info = new ProcessStartInfo(executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(executable)!,
        };
        info.Environment.Remove("grafana_plugin_type");
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return Process.Start(info)!;
    }

    public static async Task<PluginProcess> StartAsync()
    {
        var process = Launch(await PublishedPlugin.ExecutableAsync(), GrafanaEnvironment());
        var stderr = new ConcurrentQueue<string>();
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                stderr.Enqueue(e.Data);
            }
        };
        process.BeginErrorReadLine();

        // go-plugin waits a minute for the line; so does this.
        var first = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromMinutes(1));
        if (first is null || !HandshakeLine().IsMatch(first))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"not a handshake line: \"{first}\"; stderr: {string.Join('\n', stderr)}");
        }

        var stdout = new ConcurrentQueue<string>();
        _ = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync() is { } line)
            {
                stdout.Enqueue(line);
            }
        });
        return new PluginProcess(process, first, stdout, stderr);
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
