using System.Net;
using System.Net.Http.Headers;
using NetObserv.Flows;
using NetObserv.Flows.Tests.LokiPush;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Ingest.LokiPush;

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

    /// <summary>
    /// Pushes <paramref name="flows"/> as flowlogs-pipeline does (protobuf and snappy, label fields out of the
    /// line) under <paramref name="tenant"/>, and waits until the tenant has <paramref name="expectedRows"/> rows.
    /// </summary>
    internal async Task PushFlpAsync(IReadOnlyList<FlowRecord> flows, string tenant, long expectedRows)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri("/loki/api/v1/push", UriKind.Relative))
        {
            Content = new ByteArrayContent(PushBodies.SnappyProtobuf(flows.Select(f => PushBodies.FlpStream(f)))),
        };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-protobuf");
        request.Headers.Add("X-Scope-OrgID", tenant);
        using var response = await Server.Http.SendAsync(request).DefaultTimeout();
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var cs = Server.ConnectionString;
        await Timeouts.WaitUntilAsync(async () => await PushFlowRows.CountAsync(cs, tenant) >= expectedRows,
            what: $"{expectedRows} rows for tenant {tenant}");
    }
}
