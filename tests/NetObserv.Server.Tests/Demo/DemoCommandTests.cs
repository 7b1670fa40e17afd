using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Demo;

/// <summary>
/// The README's run command (<c>netobserv-backend serve --demo</c>) as a child process: it starts its
/// own PostgreSQL, prints the URLs within a minute, the printed query URL answers with data, and
/// stopping it stops its PostgreSQL too.
/// </summary>
[Collection(DemoTestGroup.Name)]
public sealed class DemoCommandTests
{
    private static readonly TimeSpan s_printDeadline = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task ServeDemo_ChildProcess_PrintsUrlsAndQueryUrlReturnsData()
    {
        // Under /tmp: when the tests run as root, PostgreSQL runs as the postgres account and must reach it.
        var dataDir = Path.Combine("/tmp", "netobserv-demo-cli-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "netobserv-backend.dll"), "serve", "--demo",
            "--data-dir", dataDir, "--listen", "127.0.0.1",
            // The server binds free ports itself; the banner prints them.
            "--http-port", "0", "--grpc-port", "0", "--query-grpc-port", "0",
            "--ipfix-port", "0", "--netflow-port", "0",
        })
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("NETOBSERV", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        var output = new StringBuilder();
        var queryUrl = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => OnLine(e.Data, output, queryUrl);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data, output, queryUrl);
        var clock = Stopwatch.StartNew();
        Assert.True(process.Start());
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            string url;
            try
            {
                url = await queryUrl.Task.WaitAsync(s_printDeadline);
            }
            catch (TimeoutException)
            {
                Assert.Fail($"no query URL printed within {s_printDeadline.TotalSeconds} s; output:\n{Snapshot(output)}");
                return;
            }

            Assert.True(clock.Elapsed < s_printDeadline);
            var text = Snapshot(output);
            var httpPort = PrintedPort(text, "HTTP API:       http://127.0.0.1:");
            var grpcPort = PrintedPort(text, "gRPC ingest:    127.0.0.1:");
            Assert.NotEqual(0, httpPort);
            Assert.NotEqual(0, grpcPort);
            Assert.NotEqual(httpPort, grpcPort);
            Assert.Contains($"data source of type Loki with URL http://127.0.0.1:{httpPort}", text, StringComparison.Ordinal);
            Assert.StartsWith($"http://127.0.0.1:{httpPort}/loki/api/v1/query_range?", url, StringComparison.Ordinal);

            using var http = new HttpClient { Timeout = Timeouts.Default };
            using var response = await http.GetAsync(new Uri(url)).DefaultTimeout();
            var body = await response.Content.ReadAsStringAsync().DefaultTimeout();
            Assert.True(response.IsSuccessStatusCode, $"GET {url} -> {(int)response.StatusCode}: {body}");
            var data = JsonNode.Parse(body)!["data"]!;
            Assert.Equal("matrix", data["resultType"]!.GetValue<string>());
            Assert.True(data["result"]!.AsArray().Count > 0, $"GET {url} returned no series: {body}\noutput:\n{Snapshot(output)}");
        }
        finally
        {
            await StopAsync(process, dataDir);
        }
    }

    private static void OnLine(string? line, StringBuilder output, TaskCompletionSource<string> queryUrl)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }

        const string Marker = "curl '";
        var at = line.IndexOf(Marker, StringComparison.Ordinal);
        if (at >= 0)
        {
            var end = line.IndexOf('\'', at + Marker.Length);
            queryUrl.TrySetResult(line[(at + Marker.Length)..(end < 0 ? line.Length : end)]);
        }
    }

    private static int PrintedPort(string text, string prefix)
    {
        var at = text.IndexOf(prefix, StringComparison.Ordinal);
        Assert.True(at >= 0, $"'{prefix}' not printed:\n{text}");
        var digits = new string(text.AsSpan(at + prefix.Length).ToArray().TakeWhile(char.IsAsciiDigit).ToArray());
        return int.Parse(digits, CultureInfo.InvariantCulture);
    }

    private static string Snapshot(StringBuilder output)
    {
        lock (output)
        {
            return output.ToString();
        }
    }

    /// <summary>SIGTERM, then the whole tree if it lingers; its PostgreSQL must be gone afterwards.</summary>
    private static async Task StopAsync(Process process, string dataDir)
    {
        if (!process.HasExited)
        {
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync().DefaultTimeout();
            }

            try
            {
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (TimeoutException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().DefaultTimeout();
            }
        }

        var pidFile = Path.Combine(dataDir, "pg", "postmaster.pid");
        var stopped = false;
        try
        {
            await Timeouts.WaitUntilAsync(() => Task.FromResult(!PostgresRunning(pidFile)), TimeSpan.FromSeconds(30),
                "the demo's PostgreSQL to stop");
            stopped = true;
        }
        finally
        {
            if (!stopped && ReadPid(pidFile) is { } pid)
            {
                using var kill = Process.Start("kill", ["-TERM", pid.ToString(CultureInfo.InvariantCulture)]);
                await kill.WaitForExitAsync().DefaultTimeout();
            }
            else
            {
                Directory.Delete(dataDir, recursive: true);
            }
        }
    }

    private static bool PostgresRunning(string pidFile) =>
        ReadPid(pidFile) is { } pid && Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));

    private static int? ReadPid(string pidFile)
    {
        try
        {
            var first = File.ReadLines(pidFile).FirstOrDefault();
            return int.TryParse(first, NumberStyles.None, CultureInfo.InvariantCulture, out var pid) ? pid : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
