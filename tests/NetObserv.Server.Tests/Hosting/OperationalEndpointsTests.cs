using System.Net;
using System.Text.Json.Nodes;
using NetObserv.Storage;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Hosting;

public sealed class OperationalEndpointsTests
{
    [Fact]
    public async Task Ready_AfterStart_Answers200()
    {
        await using var server = await RunningServer.StartAsync();

        using var ready = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative)).DefaultTimeout();
        using var health = await server.Http.GetAsync(new Uri("/healthz", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Ready_DatabaseRefusesConnections_Answers503WithReasonWhileHealthzStays200()
    {
        await using var server = await RunningServer.StartAsync();
        var database = new NpgsqlConnectionStringBuilder(server.ConnectionString).Database!;
        await AdminAsync($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS false");
        await AdminAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}'");
        try
        {
            await Task.Delay(DatabaseProbe.CacheFor); // an earlier answer is not reused
            using var text = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative)).DefaultTimeout();
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/ready", UriKind.Relative));
            request.Headers.Accept.ParseAdd("application/json");
            using var json = await server.Http.SendAsync(request).DefaultTimeout();
            using var health = await server.Http.GetAsync(new Uri("/healthz", UriKind.Relative)).DefaultTimeout();

            Assert.Equal(HttpStatusCode.ServiceUnavailable, text.StatusCode);
            var body = await text.Content.ReadAsStringAsync();
            Assert.StartsWith("database unreachable: ", body, StringComparison.Ordinal);
            Assert.Contains("not currently accepting connections", body, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, json.StatusCode);
            var answer = JsonNode.Parse(await json.Content.ReadAsStringAsync())!;
            Assert.Equal("not ready", answer["status"]!.GetValue<string>());
            Assert.StartsWith("database unreachable: ", answer["reason"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }
        finally
        {
            await AdminAsync($"ALTER DATABASE \"{database}\" ALLOW_CONNECTIONS true");
        }

        await Timeouts.WaitUntilAsync(async () =>
        {
            using var again = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative));
            return again.StatusCode == HttpStatusCode.OK;
        }, what: "/ready to answer 200 once the database accepts connections again");
    }

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(await PostgresServer.AdminConnectionStringAsync());
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync().DefaultTimeout();
    }

    [Fact]
    public async Task Root_Get_ListsTheEntryPointsAsJson()
    {
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Http.GetAsync(new Uri("/", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var index = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal("/loki/api/v1/query_range", index["loki"]!["query_range"]!.GetValue<string>());
        Assert.Equal("/loki/api/v1/push", index["loki"]!["push"]!.GetValue<string>());
        var grpc = index["grpc"]!.AsArray();
        Assert.Contains(grpc, g => g!["port"]!.GetValue<int>() == server.GrpcPort
            && g["services"]!.AsArray().Any(s => s!.GetValue<string>() == "pbflow.Collector/Send"));
        Assert.Contains(grpc, g => g!["port"]!.GetValue<int>() == server.QueryGrpcPort
            && g["services"]!.AsArray().Any(s => s!.GetValue<string>() == "netobserv.query.v1.QueryService"));
        foreach (var path in (string[])["metrics", "ready", "healthz"])
        {
            using var answer = await server.Http.GetAsync(new Uri(index[path]!.GetValue<string>(), UriKind.Relative)).DefaultTimeout();
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }

        Assert.Contains("README.md", index["docs"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_Scraped_IsPrometheusText()
    {
        await using var server = await RunningServer.StartAsync();

        using var response = await server.Http.GetAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
    }
}
