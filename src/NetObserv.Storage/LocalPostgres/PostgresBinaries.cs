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
