using NetObserv.Storage.Partitions;
using NetObserv.Testing;

namespace NetObserv.Storage.Tests.Partitions;

public sealed class StorageMaintenanceTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string NativePartitions = "about native daily partitions (a hypertable's chunks are TimescaleDB's)";

    private static readonly DateTimeOffset s_now = new(2026, 3, 10, 12, 0, 0, TimeSpan.Zero);

    public async Task InitializeAsync()
    {
        // Each test starts without partitions and rows (the class shares one database).
        await using var host = await StorageHost.CreateAsync(database.ConnectionString);
        foreach (var day in await host.Partitions.ListAsync(CancellationToken.None))
        {
            await database.ScalarAsync<int>("DROP TABLE " + FlowPartitions.NameOf(day) + "; SELECT 1");
        }

        await database.ScalarAsync<int>("TRUNCATE flow_rows, flow_rollup_1m_delta, flow_rollup_1m_rows, flow_rollup_5m_rows, flow_rollup_1h_rows; SELECT 1");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [OneSuiteFact(StorageMode.Native, NativePartitions)]
    public async Task StartAsync_NativeMode_CreatesTodayAndPartitionsAhead()
    {
        var clock = new ManualTimeProvider(s_now);
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, partitionsAhead: 3,
            timeProvider: clock);

        await host.Maintenance.StartAsync(CancellationToken.None).DefaultTimeout();
        await Timeouts.WaitUntilAsync(async () => (await host.Partitions.ListAsync(CancellationToken.None)).Count == 4,
            what: "partitions created at start");
        await host.Maintenance.StopAsync(CancellationToken.None).DefaultTimeout();

        Assert.Equal(
            [new DateOnly(2026, 3, 10), new DateOnly(2026, 3, 11), new DateOnly(2026, 3, 12), new DateOnly(2026, 3, 13)],
            await host.Partitions.ListAsync(CancellationToken.None));
        Assert.Equal("flow_rows_p20260313", await database.ScalarAsync<string>(
            "SELECT to_regclass('flow_rows_p20260313')::text"));
    }

    [OneSuiteFact(StorageMode.Native, NativePartitions)]
    public async Task RunOnceAsync_PartitionPastRetention_DroppedAndNewerKept()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString,
            retention: TimeSpan.FromDays(7), partitionsAhead: 1, flushInterval: TimeSpan.FromMilliseconds(50));
        // Cutoff: 2026-03-03T12:00Z. 03-02 ends at 03-03T00:00 (entirely past); 03-03 ends after the cutoff,
        // so its partition stays whole, while its per-minute rollups before 12:00 are past retention.
        var old = TestFlows.Generate(40, seed: 11, baseMs: Ms(2026, 3, 2, 6), spanMinutes: 60);
        var morning = TestFlows.Generate(30, seed: 12, baseMs: Ms(2026, 3, 3, 6), spanMinutes: 60);
        var afternoon = TestFlows.Generate(60, seed: 13, baseMs: Ms(2026, 3, 3, 13), spanMinutes: 60);
        await host.Writer.StartAsync(CancellationToken.None).DefaultTimeout();
        host.Accept([.. old, .. morning, .. afternoon]);
        await host.Writer.StopAsync(CancellationToken.None).DefaultTimeout();
        Assert.Equal(130, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));

        var dropped = await host.Maintenance.RunOnceAsync(s_now, CancellationToken.None).DefaultTimeout();

        Assert.Equal(["flow_rows_p20260302"], dropped);
        var days = await host.Partitions.ListAsync(CancellationToken.None);
        Assert.DoesNotContain(new DateOnly(2026, 3, 2), days);
        Assert.Contains(new DateOnly(2026, 3, 3), days);
        Assert.Contains(new DateOnly(2026, 3, 10), days);
        Assert.Contains(new DateOnly(2026, 3, 11), days);
        Assert.Equal(90, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));

        // Per-minute rollups follow flow retention; 5- and 10-minute rollups are kept for
        // MidRollupRetention (30 days), per-hour rollups for RollupRetention (90 days).
        Assert.Equal(60, await database.ScalarAsync<long>("SELECT coalesce(sum(flows), 0) FROM flow_rollup_1m"));
        Assert.Equal(130, await database.ScalarAsync<long>("SELECT coalesce(sum(flows), 0) FROM flow_rollup_5m"));
        Assert.Equal(130, await database.ScalarAsync<long>("SELECT coalesce(sum(flows), 0) FROM flow_rollup_10m"));
        Assert.Equal(130, await database.ScalarAsync<long>("SELECT coalesce(sum(flows), 0) FROM flow_rollup_1h"));

        // 40 days on, only the hourly rows are left; 100 days on, they go too.
        await host.Maintenance.RunOnceAsync(s_now.AddDays(40), CancellationToken.None).DefaultTimeout();
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM flow_rollup_5m"));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM flow_rollup_10m"));
        Assert.Equal(130, await database.ScalarAsync<long>("SELECT coalesce(sum(flows), 0) FROM flow_rollup_1h"));
        await host.Maintenance.RunOnceAsync(s_now.AddDays(100), CancellationToken.None).DefaultTimeout();
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM flow_rollup_1h"));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
    }

    [OneSuiteFact(StorageMode.TimescaleDb, "about TimescaleDB's retention policy (native partitions are the backend's)")]
    public async Task RunOnceAsync_TimescaleDbMode_RetentionPolicyFollowsRetentionAndRollupsPruned()
    {
        const string Policies = "FROM timescaledb_information.jobs "
            + "WHERE proc_name = 'policy_retention' AND hypertable_name = 'flow_rows'";
        await using (var host = await StorageHost.CreateAsync(database.ConnectionString,
            retention: TimeSpan.FromDays(7), flushInterval: TimeSpan.FromMilliseconds(50)))
        {
            // Cutoff: 2026-03-03T12:00Z; the per-minute rollups before it go, the flows are TimescaleDB's to drop.
            var morning = TestFlows.Generate(30, seed: 12, baseMs: Ms(2026, 3, 3, 6), spanMinutes: 60);
            var afternoon = TestFlows.Generate(60, seed: 13, baseMs: Ms(2026, 3, 3, 13), spanMinutes: 60);
            await host.WriteAllAsync([.. morning, .. afternoon]);

            Assert.Empty(await host.Maintenance.RunOnceAsync(s_now, CancellationToken.None).DefaultTimeout());

            Assert.Equal(1, await database.ScalarAsync<long>(
                $"SELECT count(*) {Policies} AND (config->>'drop_after')::interval = interval '7 days'"));
            Assert.Equal(60, await database.ScalarAsync<long>("SELECT coalesce(sum(flows), 0) FROM flow_rollup_1m"));
            Assert.Equal(90, await database.ScalarAsync<long>("SELECT coalesce(sum(flows), 0) FROM flow_rollup_5m"));
            Assert.Equal(90, await database.ScalarAsync<long>("SELECT count(*) FROM flows"));
        }

        // Another retention replaces the policy.
        await using (var host = await StorageHost.CreateAsync(database.ConnectionString, retention: TimeSpan.FromDays(3)))
        {
            await host.Maintenance.RunOnceAsync(s_now, CancellationToken.None).DefaultTimeout();
        }

        Assert.Equal(1, await database.ScalarAsync<long>($"SELECT count(*) {Policies}"));
        Assert.Equal(1, await database.ScalarAsync<long>(
            $"SELECT count(*) {Policies} AND (config->>'drop_after')::interval = interval '3 days'"));
    }

    [Fact]
    public async Task RunOnceAsync_ReplayedSpillIdsPastRetention_DeletedNewerKept()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString,
            retention: TimeSpan.FromDays(7), partitionsAhead: 1);
        await database.ScalarAsync<int>("DELETE FROM spill_replayed; SELECT 1");
        // 8 days and 6 days before s_now.
        await database.ScalarAsync<int>(
            "INSERT INTO spill_replayed (id, rows, replayed_at) VALUES "
            + "('old', 10, timestamptz '2026-03-02 12:00:00+00'), ('recent', 20, timestamptz '2026-03-04 12:00:00+00'); SELECT 1");

        await host.Maintenance.RunOnceAsync(s_now, CancellationToken.None).DefaultTimeout();

        Assert.Equal("recent", await database.ScalarAsync<string>("SELECT string_agg(id, ',') FROM spill_replayed"));
    }

    [Fact]
    public async Task RunOnceAsync_RejectedRowsPastRetention_DeletedNewerKept()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString,
            retention: TimeSpan.FromDays(7), partitionsAhead: 1);
        await database.ScalarAsync<int>("DELETE FROM flows_rejected; SELECT 1");
        // 8 days and 6 days before s_now.
        await database.ScalarAsync<int>(
            "INSERT INTO flows_rejected (rejected_at, tenant, sqlstate, error) VALUES "
            + "(timestamptz '2026-03-02 12:00:00+00', 'old', '54000', 'e'), "
            + "(timestamptz '2026-03-04 12:00:00+00', 'recent', '54000', 'e'); SELECT 1");

        await host.Maintenance.RunOnceAsync(s_now, CancellationToken.None).DefaultTimeout();

        Assert.Equal("recent", await database.ScalarAsync<string>("SELECT string_agg(tenant, ',') FROM flows_rejected"));
    }

    [Fact]
    public async Task RunOnceAsync_RejectedRowsPastMaxRows_OldestDeleted()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, rejectedMaxRows: 3);
        await database.ScalarAsync<int>("DELETE FROM flows_rejected; SELECT 1");
        await database.ScalarAsync<int>(
            "INSERT INTO flows_rejected (rejected_at, tenant, error) "
            + "SELECT timestamptz '2026-03-10 11:00:00+00' + i * interval '1 second', 't' || i, 'e' "
            + "FROM generate_series(1, 5) AS i; SELECT 1");

        await host.Maintenance.RunOnceAsync(s_now, CancellationToken.None).DefaultTimeout();

        Assert.Equal("t3,t4,t5", await database.ScalarAsync<string>(
            "SELECT string_agg(tenant, ',' ORDER BY id) FROM flows_rejected"));
    }

    [OneSuiteFact(StorageMode.Native, NativePartitions)]
    public async Task RunOnceAsync_RunTwice_SamePartitionsNoError()
    {
        await using var host = await StorageHost.CreateAsync(database.ConnectionString, partitionsAhead: 2);

        await host.Maintenance.RunOnceAsync(s_now, CancellationToken.None).DefaultTimeout();
        var first = await host.Partitions.ListAsync(CancellationToken.None);
        await using var other = await StorageHost.CreateAsync(database.ConnectionString, partitionsAhead: 2);
        await Task.WhenAll(
            host.Maintenance.RunOnceAsync(s_now, CancellationToken.None),
            other.Maintenance.RunOnceAsync(s_now, CancellationToken.None)).DefaultTimeout();

        Assert.Equal(first, await host.Partitions.ListAsync(CancellationToken.None));
        Assert.Equal(3, first.Count);
    }

    [Theory]
    [InlineData(0L, "1970-01-01")]
    [InlineData(86_399_999L, "1970-01-01")]
    [InlineData(86_400_000L, "1970-01-02")]
    [InlineData(-1L, "1969-12-31")]
    [InlineData(-86_400_000L, "1969-12-31")]
    [InlineData(-86_400_001L, "1969-12-30")]
    public void DayOf_UnixMilliseconds_UtcDay(long ms, string day) =>
        Assert.Equal(DateOnly.Parse(day, System.Globalization.CultureInfo.InvariantCulture), FlowPartitions.DayOf(ms));

    private static long Ms(int year, int month, int day, int hour) =>
        new DateTimeOffset(year, month, day, hour, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
}
