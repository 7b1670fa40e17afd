using System.Text.Json.Nodes;

namespace NetObserv.Server.Tests.Deploy;

/// <summary>Files of the repository the tests run from (found by walking up to the solution file).</summary>
internal static class RepositoryFiles
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    public static string Root => s_root.Value;

    public static string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public static string Read(string relative) => File.ReadAllText(PathOf(relative));

    /// <summary>Every <c>dashboards/*.json</c>, by file name.</summary>
    public static IReadOnlyDictionary<string, JsonObject> Dashboards()
    {
        var result = new SortedDictionary<string, JsonObject>(StringComparer.Ordinal);
        foreach (var file in Directory.GetFiles(PathOf("dashboards"), "*.json"))
        {
            result[Path.GetFileName(file)] = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        }

        Assert.NotEmpty(result);
        return result;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "NetObserv.GrafanaBackend.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("NetObserv.GrafanaBackend.sln not found above " + AppContext.BaseDirectory);
    }
}
