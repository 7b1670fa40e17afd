using System.Diagnostics;
using NetObserv.Storage.LocalPostgres;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.LocalPostgres;

/// <summary>
/// The managed PostgreSQL trusts no connection: without the password of its 0600 pgpass file, a client (and
/// another local account running psql) is refused; with it, the printed psql hint works. A data folder that
/// an older version initialised with trust is switched to passwords at its next start.
/// </summary>
public sealed class ManagedPostgresAccessTests : IAsyncLifetime
{
    private readonly TemporaryPostgres _postgres = new("accesspg");

    private ManagedPostgres Server => _postgres.Server;

    private string DataDirectory => _postgres.DataDirectory;

    public Task InitializeAsync() => _postgres.InitializeAsync();

    public Task DisposeAsync() => _postgres.DisposeAsync();

    private static string Psql
    {
        get
        {
            var initdb = PostgresBinaries.Find().InitDb;
            var real = File.ResolveLinkTarget(initdb, returnFinalTarget: true)?.FullName ?? initdb;
            return Path.Combine(Path.GetDirectoryName(real)!, "psql");
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string? runAs, string? passFile, params string[] args)
    {
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (runAs is null)
        {
            psi.FileName = Psql;
        }
        else
        {
            psi.FileName = "runuser";
            foreach (var a in (string[])["-u", runAs, "--", Psql])
            {
                psi.ArgumentList.Add(a);
            }
        }

        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PGCONNECT_TIMEOUT"] = "5";
        psi.Environment.Remove("PGPASSWORD");
        if (passFile is not null)
        {
            psi.Environment["PGPASSFILE"] = passFile;
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().DefaultTimeout();
        return (process.ExitCode, await stdout + await stderr);
    }

    private string[] PsqlArgs(string host) =>
        ["-w", "-h", host, "-p", Server.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U",
            ManagedPostgres.SuperUser, "-d", "postgres", "-tAc", "SELECT 42"];

    [Fact]
    public async Task Connect_WithoutPassword_IsRefused()
    {
        var withoutPassword = new NpgsqlConnectionStringBuilder(Server.ConnectionString()) { Password = null, Pooling = false };

        await using var connection = new NpgsqlConnection(withoutPassword.ConnectionString);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync());
        await using var good = new NpgsqlConnection(Server.ConnectionString());
        await good.OpenAsync().DefaultTimeout();
        Assert.DoesNotContain(File.ReadAllLines(Path.Combine(DataDirectory, "pg_hba.conf")),
            l => !l.TrimStart().StartsWith('#') && l.Contains("trust", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PasswordFile_IsPrivateAndThePsqlHintWorks()
    {
        var mode = OperatingSystem.IsWindows() ? UnixFileMode.None : File.GetUnixFileMode(Server.PasswordFile);

        var (exit, output) = await RunAsync(null, Server.PasswordFile, PsqlArgs("127.0.0.1"));

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        Assert.True(exit == 0, output);
        Assert.Equal("42", output.Trim());
    }

    [Fact]
    public async Task Psql_AsAnotherLocalAccount_IsRefused()
    {
        if (Environment.UserName != "root")
        {
            return; // switching to another account needs root (CI runs as root)
        }

        var tcp = await RunAsync("nobody", null, PsqlArgs("127.0.0.1"));
        var withFile = await RunAsync("nobody", Server.PasswordFile, PsqlArgs("127.0.0.1"));
        var socket = await RunAsync("nobody", null, PsqlArgs(DataDirectory));

        Assert.NotEqual(0, tcp.ExitCode);
        Assert.Contains("password", tcp.Output, StringComparison.OrdinalIgnoreCase);
        Assert.NotEqual(0, withFile.ExitCode);
        Assert.NotEqual(0, socket.ExitCode);
    }

    [Fact]
    public async Task Start_DataFolderThatTrusted_NeedsThePasswordAfterwards()
    {
        await Server.DisposeAsync();
        var hba = Path.Combine(DataDirectory, "pg_hba.conf");
        await File.WriteAllTextAsync(hba, "local all all trust\nhost all all 127.0.0.1/32 trust\n");
        File.Delete(Server.PasswordFile);

        await _postgres.StartAsync();

        Assert.DoesNotContain(await File.ReadAllLinesAsync(hba),
            l => !l.TrimStart().StartsWith('#') && l.Contains("trust", StringComparison.Ordinal));
        var withoutPassword = new NpgsqlConnectionStringBuilder(Server.ConnectionString()) { Password = null, Pooling = false };
        await using var refused = new NpgsqlConnection(withoutPassword.ConnectionString);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => refused.OpenAsync());
        await using var good = new NpgsqlConnection(Server.ConnectionString());
        await good.OpenAsync().DefaultTimeout();
    }
}
