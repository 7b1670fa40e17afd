using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Deploy;

/// <summary>
/// Renders a kustomization with <c>kubectl kustomize</c> (the kubectl on PATH, or the one named by
/// the <c>KUBECTL</c> environment variable) and parses the objects.
/// </summary>
internal static class Kustomize
{
    private static readonly ConcurrentDictionary<string, Lazy<Task<Manifests>>> s_renders = new(StringComparer.Ordinal);

    /// <summary>Every kustomization the repository ships, relative to its root.</summary>
    public static readonly string[] Directories =
    [
        "deploy/base",
        "deploy/overlays/grafana-operator-v5",
        "deploy/overlays/grafana-operator-v5-plugin",
        "deploy/overlays/grafana-operator-v4",
        "deploy/grafana",
        "dashboards",
    ];

    public static Task<Manifests> RenderAsync(string relativeDirectory) =>
        s_renders.GetOrAdd(relativeDirectory, dir => new Lazy<Task<Manifests>>(() => RunAsync(dir))).Value;

    private static async Task<Manifests> RunAsync(string relativeDirectory)
    {
        var kubectl = FindKubectl();
        var start = new ProcessStartInfo(kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(RepositoryFiles.PathOf(relativeDirectory));

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start " + kubectl);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        var output = await stdout.DefaultTimeout();
        var errors = await stderr.DefaultTimeout();

        Assert.True(process.ExitCode == 0,
            $"kubectl kustomize {relativeDirectory} exited with {process.ExitCode}:\n{errors}");
        return new Manifests(relativeDirectory, YamlJson.ParseDocuments(output));
    }

    private static string FindKubectl()
    {
        var configured = Environment.GetEnvironmentVariable("KUBECTL");
        if (!string.IsNullOrEmpty(configured))
        {
            Assert.True(File.Exists(configured), $"KUBECTL={configured} does not exist");
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, "kubectl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        Assert.Fail("kubectl is not on PATH: the deployment tests render the kustomizations with it. "
            + "Install Debian's kubernetes-client package (apt-get install kubernetes-client), as .ci/run does, "
            + "or set KUBECTL to a kubectl binary.");
        return string.Empty;
    }
}

/// <summary>The objects one kustomization renders.</summary>
internal sealed class Manifests(string source, IReadOnlyList<JsonObject> objects)
{
    public string Source { get; } = source;

    public IReadOnlyList<JsonObject> Objects { get; } = objects;

    public IEnumerable<JsonObject> OfKind(string kind, string? apiVersion = null) =>
        Objects.Where(o => (string?)o["kind"] == kind && (apiVersion is null || (string?)o["apiVersion"] == apiVersion));

    public JsonObject Single(string kind, string name)
    {
        var matches = OfKind(kind).Where(o => (string?)o["metadata"]?["name"] == name).ToList();
        Assert.True(matches.Count == 1, $"{Source}: expected one {kind} named {name}, found {matches.Count}");
        return matches[0];
    }
}
