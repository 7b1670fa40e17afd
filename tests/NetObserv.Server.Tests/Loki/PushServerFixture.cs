using NetObserv.Server.Tests.Hosting;

namespace NetObserv.Server.Tests.Loki;

/// <summary>One running server (fresh database) shared by the push tests of a class; tests use their own tenants.</summary>
public sealed class PushServerFixture : IAsyncLifetime
{
    internal RunningServer Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:FlushInterval"] = "00:00:00.050",
        });

    public async Task DisposeAsync() => await Server.DisposeAsync();
}
