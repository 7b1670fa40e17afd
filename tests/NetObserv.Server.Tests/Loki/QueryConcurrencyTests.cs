using System.Net;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Loki;

/// <summary>Query:MaxConcurrentQueries and Query:MaxQueuedQueries against a real server and PostgreSQL.</summary>
public sealed class QueryConcurrencyTests
{
    private static readonly Uri s_logQuery = new("/loki/api/v1/query_range?query="
        + Uri.EscapeDataString("{app=\"netobserv-flowcollector\"}") + "&since=1h&limit=10", UriKind.Relative);

    [Fact]
    public async Task QueryRange_SlotTakenAndLineFull_429AtOnceOthersAnsweredOnceFree()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Query:MaxConcurrentQueries"] = "1",
            ["Query:MaxQueuedQueries"] = "1",
        });

        // Hold the flows table: the first query's SQL waits for the lock, keeping the only slot taken.
        await using var blocker = new NpgsqlConnection(server.ConnectionString);
        await blocker.OpenAsync().DefaultTimeout();
        var hold = await blocker.BeginTransactionAsync().AsTask().DefaultTimeout();
        await using (var lockFlows = new NpgsqlCommand("LOCK TABLE flows IN ACCESS EXCLUSIVE MODE", blocker, hold))
        {
            await lockFlows.ExecuteNonQueryAsync().DefaultTimeout();
        }

        var first = server.Http.GetAsync(s_logQuery);
        await Timeouts.WaitUntilAsync(async () => await QueriesWaitingOnLocksAsync(server.ConnectionString) > 0,
            what: "the first query waiting for the lock");

        // One more may wait in line; of two more, one waits and the other is refused at once.
        using var other = new HttpClient { BaseAddress = server.Http.BaseAddress, Timeout = Timeouts.Default };
        var second = other.GetAsync(s_logQuery);
        var third = other.GetAsync(s_logQuery);
        var answered = await Task.WhenAny(second, third).DefaultTimeout();
        var waiting = answered == second ? third : second;
        using var refused = await answered;
        var body = await refused.Content.ReadAsStringAsync().DefaultTimeout();
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("Query:MaxConcurrentQueries", body, StringComparison.Ordinal);
        Assert.False(first.IsCompleted);
        Assert.False(waiting.IsCompleted);

        await hold.RollbackAsync().DefaultTimeout();
        using var firstAnswer = await first.DefaultTimeout();
        using var waitingAnswer = await waiting.DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, firstAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, waitingAnswer.StatusCode);

        // Every slot is free again.
        using var after = await other.GetAsync(s_logQuery).DefaultTimeout();
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }

    private static async Task<long> QueriesWaitingOnLocksAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' "
            + "AND application_name = 'netobserv-query'",
            connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
