using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>
/// Hostile pbflow messages against the whole server over real gRPC: records the store cannot hold are
/// dropped and counted by reason, the rest of their message is stored, client timestamps never create
/// partitions outside the retention window, and good data from another client is stored right after.
/// </summary>
public sealed class GrpcHostileInputTests
{
    [Fact]
    public async Task Send_ValuesTheStoreCannotHold_DroppedAndCountedByReasonRestStored()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var now = DateTimeOffset.UtcNow;
        var endMs = now.ToUnixTimeMilliseconds() - 1_000;
        var good = GrpcIngestClient.SmallRecord(1, endMs);
        var bytesMax = GrpcIngestClient.SmallRecord(2, endMs);
        bytesMax.Bytes = ulong.MaxValue;
        var port = GrpcIngestClient.SmallRecord(3, endMs);
        port.Transport.SrcPort = 70_000;
        var protocol = GrpcIngestClient.SmallRecord(4, endMs);
        protocol.Transport.Protocol = 300;
        var direction = GrpcIngestClient.SmallRecord(5, endMs);
        direction.Direction = (Direction)99;
        var year1900 = At(GrpcIngestClient.SmallRecord(6, endMs), new DateTimeOffset(1900, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var year1969 = At(GrpcIngestClient.SmallRecord(7, endMs), new DateTimeOffset(1969, 7, 20, 20, 17, 0, TimeSpan.Zero));
        var year9999 = At(GrpcIngestClient.SmallRecord(8, endMs), new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var alsoGood = GrpcIngestClient.SmallRecord(9, endMs);

        await client.SendAsync(new Records
        {
            Entries = { good, bytesMax, port, protocol, direction, year1900, year1969, year9999, alsoGood },
        }).ResponseAsync.DefaultTimeout();

        // Another client's good batch right after is stored within seconds.
        using var otherChannel = GrpcIngestClient.Channel(server.GrpcPort);
        await new Collector.CollectorClient(otherChannel).SendAsync(GrpcIngestClient.Batch(3, 100, endMs))
            .ResponseAsync.DefaultTimeout();
        await Timeouts.WaitUntilAsync(async () => await CountAsync(server, "src_port >= 5100") == 3,
            TimeSpan.FromSeconds(10), "the other client's 3 rows");

        Assert.Equal(2, await CountAsync(server, "src_port < 5100"));
        Assert.Equal(
            [(long)good.Bytes, (long)alsoGood.Bytes],
            await ColumnAsync(server, "SELECT bytes FROM flows WHERE src_port < 5100 ORDER BY bytes"));
        var metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();
        AssertCounter(metrics, "counter_out_of_range", 1);
        AssertCounter(metrics, "value_out_of_range", 3);
        AssertCounter(metrics, "too_old", 2);
        AssertCounter(metrics, "too_far_in_future", 1);
    }

    [Fact]
    public async Task Send_TwoThousandDistinctDays_NoPartitionOutsideRetentionAndGoodDataStoredAtOnce()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:FlushInterval"] = "00:00:00.050",
        });
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var now = DateTimeOffset.UtcNow;
        var records = new Records();
        for (var i = 0; i < 2_000; i++)
        {
            // 1,000 days back and 1,000 days ahead, one record per day.
            var end = now.AddDays(i - 1_000).ToUnixTimeMilliseconds();
            records.Entries.Add(GrpcIngestClient.SmallRecord((uint)i, end));
        }

        Assert.InRange(records.CalculateSize(), 50_000, 200_000);

        await client.SendAsync(records).ResponseAsync.DefaultTimeout();
        using var otherChannel = GrpcIngestClient.Channel(server.GrpcPort);
        var goodEnd = now.ToUnixTimeMilliseconds();
        await new Collector.CollectorClient(otherChannel).SendAsync(GrpcIngestClient.Batch(1, 40_000, goodEnd))
            .ResponseAsync.DefaultTimeout();
        await Timeouts.WaitUntilAsync(async () => await CountAsync(server, "src_port = 45000") == 1,
            TimeSpan.FromSeconds(10), "the other client's row");

        // Default retention 7 days, 10 minutes of skew: at most 8 days back and the days maintenance creates ahead.
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var days = await PartitionDaysAsync(server);
        Assert.All(days, day => Assert.InRange(day, today.AddDays(-8), today.AddDays(3)));
        Assert.True(days.Count <= 12, $"{days.Count} partitions");
    }

    [Fact]
    public async Task Send_MoreRecordsThanMaxRecordsPerMessage_ResourceExhaustedBeforeParsing()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Ingest:MaxRecordsPerMessage"] = "100",
        });
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var ex = await Assert.ThrowsAsync<RpcException>(
            () => client.SendAsync(GrpcIngestClient.Batch(101, 0, endMs)).ResponseAsync.DefaultTimeout());
        await client.SendAsync(GrpcIngestClient.Batch(100, 1_000, endMs)).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("Ingest:MaxRecordsPerMessage", ex.Status.Detail, StringComparison.Ordinal);
        await Timeouts.WaitUntilAsync(async () => await CountAsync(server) == 100, what: "100 rows");
    }

    [Fact]
    public async Task Send_BatchLargerThanEmptyChannel_ResourceExhausted()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:ChannelCapacity"] = "50",
        });
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        var ex = await Assert.ThrowsAsync<RpcException>(
            () => client.SendAsync(GrpcIngestClient.Batch(60, 0, endMs)).ResponseAsync.DefaultTimeout());
        await client.SendAsync(GrpcIngestClient.Batch(50, 1_000, endMs)).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        await Timeouts.WaitUntilAsync(async () => await CountAsync(server) == 50, what: "50 rows");
        Assert.Equal(0, await CountAsync(server, "src_port < 6000"));
    }

    [Fact]
    public async Task Send_ShapesThePbflowReaderDeclines_InvalidArgumentOrDroppedAndServerKeepsServing()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 1_000;

        // 5,000 nested groups of an unknown field inside a record: the reader leaves the record to the generated
        // parser, whose recursion limit refuses it.
        var nested = Enumerable.Repeat<byte[]>([0x93, 0x03], 5_000).SelectMany(b => b).ToArray();
        // Good records, then one cut short: the reader declines the whole message, nothing of it is kept.
        var goodThenCut = Google.Protobuf.MessageExtensions.ToByteArray(GrpcIngestClient.Batch(3, 10, endMs))
            .Concat(new byte[] { 0x0A, 0x02, 0x40, 0xFF }).ToArray();
        foreach (var body in new[] { Entry(nested), goodThenCut })
        {
            var ex = await Assert.ThrowsAsync<RpcException>(
                () => GrpcIngestClient.SendRawAsync(channel, body).DefaultTimeout());
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Contains("malformed pbflow.Records", ex.Status.Detail, StringComparison.Ordinal);
        }

        // A 1 MiB interface name (past the text bound, and past the reader's 64-byte name table) beside a good record.
        var longName = GrpcIngestClient.SmallRecord(1, endMs);
        longName.Interface = new string('x', 1 << 20);
        var good = GrpcIngestClient.SmallRecord(2, endMs);
        good.Interface = "eth0";
        await new Collector.CollectorClient(channel).SendAsync(new Records { Entries = { longName, good } })
            .ResponseAsync.DefaultTimeout();

        await Timeouts.WaitUntilAsync(async () => await CountAsync(server) == 1, TimeSpan.FromSeconds(10), "the good row");
        Assert.Equal(0, await CountAsync(server, "src_port BETWEEN 5010 AND 5012"));
        var metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();
        AssertCounter(metrics, "text_too_long", 1);
    }

    /// <summary>A Records message of one entry with <paramref name="body"/> as its bytes.</summary>
    private static byte[] Entry(byte[] body)
    {
        var length = new List<byte>();
        for (var v = (uint)body.Length; ; v >>= 7)
        {
            length.Add((byte)(v < 0x80 ? v : (v & 0x7F) | 0x80));
            if (v < 0x80)
            {
                break;
            }
        }

        return [0x0A, .. length, .. body];
    }

    private static Flows.Pbflow.Record At(Flows.Pbflow.Record record, DateTimeOffset end)
    {
        record.TimeFlowStart = Timestamp.FromDateTimeOffset(end.AddSeconds(-1));
        record.TimeFlowEnd = Timestamp.FromDateTimeOffset(end);
        return record;
    }

    private static void AssertCounter(string metrics, string reason, int expected) =>
        Assert.Contains(string.Create(CultureInfo.InvariantCulture,
            $"netobserv_ingest_records_rejected_total{{transport=\"grpc\",reason=\"{reason}\"}} {expected}"),
            metrics, StringComparison.Ordinal);

    internal static async Task<long> CountAsync(RunningServer server, string where = "true")
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM flows WHERE " + where, connection);
        command.CommandTimeout = 5;
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<long>> ColumnAsync(RunningServer server, string sql)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var values = new List<long>();
        while (await reader.ReadAsync())
        {
            values.Add(reader.GetInt64(0));
        }

        return values;
    }

    internal static async Task<List<DateOnly>> PartitionDaysAsync(RunningServer server)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'flow_rows'::regclass",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var days = new List<DateOnly>();
        while (await reader.ReadAsync())
        {
            days.Add(DateOnly.ParseExact(reader.GetString(0)["flow_rows_p".Length..], "yyyyMMdd", CultureInfo.InvariantCulture));
        }

        return days;
    }

    /// <summary>The message of the issue: 1,000,000 empty records in 2 MB.</summary>
    internal static byte[] EmptyRecords(int count)
    {
        var body = new byte[count * 2];
        for (var i = 0; i < count; i++)
        {
            body[i * 2] = 0x0A; // field 1 (entries), length-delimited, length 0
        }

        return body;
    }
}
