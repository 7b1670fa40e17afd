using System.Diagnostics;

namespace NetObserv.Storage.LocalPostgres;

/// <summary>Where the PostgreSQL server programs are: PATH first, then <c>/usr/lib/postgresql/*/bin</c> (newest first).</summary>
public sealed record PostgresBinaries(string InitDb, string PgCtl, string Postgres)
{
    /// <summary>What to tell a user who has no server binaries.</summary>
    public const string InstallHint =
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found on PATH or in "
        + "/usr/lib/postgresql/*/bin. Install them (Debian/Ubuntu: sudo apt-get install postgresql; "
        + "PostgreSQL 15 or newer), or pass --database with a connection string to an existing server.";

    /// <summary>Finds the binaries or throws <see cref="ManagedPostgresException"/> with <see cref="InstallHint"/>.</summary>
    public static PostgresBinaries Find()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            if (TryIn(dir) is { } found)
            {
                return found;
            }
        }

        const string Root = "/usr/lib/postgresql";
        if (Directory.Exists(Root))
        {
            var versions = Directory.GetDirectories(Root)
                .Select(d => (Dir: d, Version: int.TryParse(Path.GetFileName(d), out var v) ? v : 0))
                .OrderByDescending(x => x.Version);
            foreach (var (dir, _) in versions)
            {
                if (TryIn(Path.Combine(dir, "bin")) is { } found)
                {
                    return found;
                }
            }
        }

        throw new ManagedPostgresException(InstallHint);
    }

    /// <summary>
    /// True when TimescaleDB is installed for these binaries: <c>&lt;sharedir&gt;/extension/timescaledb.control</c>
    /// exists, with the share folder named by <c>pg_config --sharedir</c> beside them (links followed), or
    /// else looked for next to them (<c>../share/postgresql</c>, <c>../share</c>, Debian's <c>/usr/share/postgresql/&lt;N&gt;</c>).
    /// </summary>
    public bool HasTimescaleDb() =>
        ShareDirectories().Any(dir => File.Exists(Path.Combine(dir, "extension", "timescaledb.control")));

    private IEnumerable<string> ShareDirectories()
    {
        // Through symbolic links (/usr/local/bin/postgres -> /usr/lib/postgresql/15/bin/postgres) to the real folder.
        var target = File.ResolveLinkTarget(Postgres, returnFinalTarget: true)?.FullName ?? Postgres;
        var bin = Path.GetDirectoryName(target) ?? ".";
        if (PgConfigShareDir(Path.Combine(bin, "pg_config")) is { } configured)
        {
            yield return configured;
        }

        var parent = Path.GetDirectoryName(bin) ?? bin;
        yield return Path.Combine(parent, "share", "postgresql");
        yield return Path.Combine(parent, "share");
        yield return Path.Combine("/usr/share/postgresql", Path.GetFileName(parent));
    }

    private static string? PgConfigShareDir(string pgConfig)
    {
        if (!File.Exists(pgConfig))
        {
            return null;
        }

        try
        {
            var psi = new ProcessStartInfo(pgConfig, "--sharedir")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            using var process = Process.Start(psi);
            if (process is null)
            {
                return null;
            }

            var output = process.StandardOutput.ReadToEnd().Trim();
            return process.WaitForExit(10_000) && process.ExitCode == 0 && output.Length > 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static PostgresBinaries? TryIn(string dir)
    {
        var initdb = Path.Combine(dir, "initdb");
        var pgctl = Path.Combine(dir, "pg_ctl");
        var postgres = Path.Combine(dir, "postgres");
        return File.Exists(initdb) && File.Exists(pgctl) && File.Exists(postgres)
            ? new PostgresBinaries(initdb, pgctl, postgres)
            : null;
    }
}
