using NetObserv.Storage.LocalPostgres;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests.LocalPostgres;

/// <summary>
/// A managed PostgreSQL of its own in a temporary data folder, removed on dispose. It preloads TimescaleDB
/// (when installed) in the TimescaleDB suite, as a server of the suite's mode (<see cref="PostgresTestMode"/>),
/// or as <paramref name="preloadTimescaleDb"/> says.
/// </summary>
public class TemporaryPostgres(string name, bool? preloadTimescaleDb = null) : IAsyncLifetime
{
    private ManagedPostgres? _server;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), $"netobserv-test-{name}-" + Guid.NewGuid().ToString("N")[..8]);

    public ManagedPostgres Server => _server ?? throw new InvalidOperationException("not initialised");

    public virtual async Task InitializeAsync() => await StartAsync();

    /// <summary>Starts (again) the server of the data folder.</summary>
    public async Task StartAsync() =>
        _server = await ManagedPostgres.StartAsync(DataDirectory, preloadTimescaleDb ?? PostgresTestMode.IsTimescaleDb,
            CancellationToken.None)
            .DefaultTimeout();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }

        File.Delete(ManagedPostgres.PasswordFileOf(DataDirectory));
    }
}
