using NetObserv.Storage.Copy;
using NetObserv.Storage.Rollups;
using NetObserv.Testing;
using Npgsql;
using Sums = NetObserv.Storage.Rollups.RollupSums;

namespace NetObserv.Storage.Tests.Rollups;

/// <summary>
/// <see cref="RollupDeltas"/> encodes its binary COPY rows itself (<see cref="BinaryCopyWriter"/>): what it
/// stores must be what the same values mean, at the edges of time and of bigint too.
/// </summary>
public sealed class RollupDeltasEncodingTests : IAsyncLifetime
{
    private readonly PostgresDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public async Task WriteAsync_EdgeBucketsAndSums_StoredAsNpgsqlReadsThemBack()
    {
        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            // Migrated: flow_rollup_1m_delta exists.
        }

        var rows = new Dictionary<RollupDelta, Sums>
        {
            // The lowest time (-infinity, as Npgsql writes DateTime.MinValue), before 1970, the epoch, a recent
            // minute and the last minute of the representable range.
            [new RollupDelta(FlowTime.MinMs, 1)] = new() { Bytes = 1, Packets = 1, SampledBytes = 1, SampledPackets = 1, Flows = 1 },
            [new RollupDelta(RollupAggregator.Floor(-1, 60_000), 2)] = new() { Bytes = 10, Packets = 2, SampledBytes = 500, SampledPackets = 100, Flows = 2 },
            [new RollupDelta(0, 3)] = new() { Bytes = long.MaxValue, Packets = long.MinValue, SampledBytes = long.MaxValue, SampledPackets = 0, Flows = int.MaxValue },
            [new RollupDelta(RollupAggregator.Floor(TestFlows.BaseMs, 60_000), int.MaxValue)] = new() { Bytes = 3, Packets = 4, SampledBytes = 3, SampledPackets = 8, Flows = 5 },
            [new RollupDelta(RollupAggregator.Floor(FlowTime.MaxMs, 60_000), int.MinValue)] = new() { Bytes = 0, Packets = 0, SampledBytes = 0, SampledPackets = 0, Flows = 0 },
        };

        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        Assert.Equal(rows.Count, await RollupDeltas.WriteAsync(connection, rows, CancellationToken.None).DefaultTimeout());

        await using var command = new NpgsqlCommand(
            "SELECT key, bucket, bytes, packets, sampled_bytes, sampled_packets, flows FROM flow_rollup_1m_delta", connection);
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        var stored = 0;
        while (await reader.ReadAsync())
        {
            var (delta, sums) = rows.Single(r => r.Key.Key == reader.GetInt32(0));
            Assert.Equal(FlowTime.ToUtc(delta.BucketMs), reader.GetFieldValue<DateTime>(1));
            Assert.Equal(sums.Bytes, reader.GetInt64(2));
            Assert.Equal(sums.Packets, reader.GetInt64(3));
            // A sampled sum equal to its raw sum is NULL.
            Assert.Equal(sums.SampledBytes == sums.Bytes ? null : (long?)sums.SampledBytes, reader.IsDBNull(4) ? null : reader.GetInt64(4));
            Assert.Equal(sums.SampledPackets == sums.Packets ? null : (long?)sums.SampledPackets, reader.IsDBNull(5) ? null : reader.GetInt64(5));
            Assert.Equal(sums.Flows, reader.GetInt32(6));
            stored++;
        }

        Assert.Equal(rows.Count, stored);
        Assert.Equal(1, await _database.ScalarAsync<long>(
            "SELECT count(*) FROM flow_rollup_1m_delta WHERE bucket = '-infinity'"));
        Assert.Equal(1, await _database.ScalarAsync<long>(
            "SELECT count(*) FROM flow_rollup_1m_delta WHERE bucket = '1969-12-31 23:59:00+00'"));
    }
}
