using System.Text.RegularExpressions;
using NetObserv.Storage;

namespace NetObserv.Server.Tests.Deploy;

/// <summary>
/// The README as a new user meets it in a checkout: every relative link opens a file of the repository, its
/// commands table shows commands runnable from the checkout, and the data folder it describes is the code's.
/// </summary>
public sealed partial class ReadmeTests
{
    private static readonly string s_readme = RepositoryFiles.Read("README.md");

    [Fact]
    public void Links_Relative_ResolveToFilesInsideTheRepository()
    {
        var root = Path.GetFullPath(RepositoryFiles.Root).TrimEnd('/') + "/";
        var links = Link().Matches(s_readme).Select(m => m.Groups["target"].Value)
            .Where(t => !t.StartsWith("http://", StringComparison.Ordinal) && !t.StartsWith("https://", StringComparison.Ordinal)
                && !t.StartsWith('#'))
            .ToList();

        Assert.NotEmpty(links);
        foreach (var link in links)
        {
            var path = Path.GetFullPath(Path.Combine(root, link.Split('#')[0]));
            Assert.True(path.StartsWith(root, StringComparison.Ordinal), $"README links {link}, outside the repository");
            Assert.True(File.Exists(path) || Directory.Exists(path), $"README links {link}, which does not exist");
        }

        Assert.DoesNotContain("../", s_readme, StringComparison.Ordinal);
    }

    [Fact]
    public void CommandsTable_EveryCommand_RunsFromACheckout()
    {
        var section = s_readme[s_readme.IndexOf("## Commands", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 1, StringComparison.Ordinal)];
        var rows = section.Split('\n').Where(l => l.StartsWith("| `", StringComparison.Ordinal)).ToList();

        Assert.NotEmpty(rows);
        foreach (var row in rows)
        {
            Assert.StartsWith("| `dotnet run --project src/NetObserv.Server -- ", row, StringComparison.Ordinal);
        }

        Assert.True(File.Exists(RepositoryFiles.PathOf("src/NetObserv.Server/NetObserv.Server.csproj")));
    }

    [Fact]
    public void DataFolder_Described_MatchesTheDefault()
    {
        Assert.Equal("/home/u/.local/share/netobserv", StorageOptions.DefaultDataDirectory(false, null, "/home/u"));
        Assert.Equal("/home/u/.local/share/netobserv", StorageOptions.DefaultDataDirectory(false, "relative", "/home/u"));
        Assert.Equal("/xdg/netobserv", StorageOptions.DefaultDataDirectory(false, "/xdg", "/home/u"));
        Assert.Equal("/var/lib/netobserv", StorageOptions.DefaultDataDirectory(true, "/xdg", "/root"));
        Assert.True(Path.IsPathRooted(new StorageOptions().DataDirectory));

        foreach (var described in (string[])["`$XDG_DATA_HOME/netobserv`", "`~/.local/share/netobserv`", "`/var/lib/netobserv`"])
        {
            Assert.Contains(described, s_readme, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(".netobserv", s_readme, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"\]\((?<target>[^)\s]+)\)")]
    private static partial Regex Link();
}
