using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using Grpc.Core;
using Microsoft.Extensions.DependencyInjection;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Ingest;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Storage.Copy;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>The gRPC collector end to end: a real client over 127.0.0.1, the whole server, rows in PostgreSQL.</summary>
public sealed class GrpcCollectorTests
{
    [Fact]
    public async Task Send_RecordsWithEveryField_ArriveInFlowsWithEveryMappedColumn()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 2_000;
        var v4 = GrpcIngestClient.FullRecord(ipv6: false, seq: 1, endMs);
        var v6 = GrpcIngestClient.FullRecord(ipv6: true, seq: 2, endMs);
        var icmp6 = GrpcIngestClient.FullRecord(ipv6: true, seq: 3, endMs);
        icmp6.Transport.Protocol = 58;
        icmp6.IcmpType = 128;
        icmp6.IcmpCode = 0;
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        await client.SendAsync(new Records { Entries = { v4, v6, icmp6 } }).ResponseAsync.DefaultTimeout();
        var after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var rows = await WaitForRowsAsync(server.ConnectionString, 3);

        var byBytes = rows.ToDictionary(r => (long)r["bytes"]!);
        foreach (var (sent, ipv6) in new[] { (v4, false), (v6, true) })
        {
            var row = byBytes[(long)sent.Bytes];
            AssertCommonColumns(sent, row, before, after);
            Assert.Equal(IPAddress.Parse(ipv6 ? "fd01::5" : "10.128.0.5"), row["src_addr"]);
            Assert.Equal(IPAddress.Parse(ipv6 ? "2001:db8::77" : "172.30.0.10"), row["dst_addr"]);
            Assert.Equal(IPAddress.Parse(ipv6 ? "fd00::10" : "10.0.0.10"), row["agent_ip"]);
            Assert.Equal(ipv6 ? 0x86DD : 0x0800, row["etype"]);
            Assert.Equal(6, row["proto"]);
            Assert.Equal((int)sent.Transport.SrcPort, row["src_port"]);
            Assert.Equal(8443, row["dst_port"]);
            Assert.Equal(0x112, row["flags"]);
            Assert.Null(row["icmp_type"]);
            Assert.Null(row["icmp_code"]);
        }

        var icmpRow = byBytes[(long)icmp6.Bytes];
        AssertCommonColumns(icmp6, icmpRow, before, after);
        Assert.Equal(58, icmpRow["proto"]);
        Assert.Equal(128, icmpRow["icmp_type"]);
        Assert.Equal(0, icmpRow["icmp_code"]);
        Assert.Null(icmpRow["src_port"]);
        Assert.Null(icmpRow["dst_port"]);
        Assert.Null(icmpRow["flags"]);
    }

    [Fact]
    public async Task Send_TenThousandRecordMessage_AcceptedWithDefaultLimit()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var records = new Records();
        for (uint i = 0; i < 10_000; i++)
        {
            records.Entries.Add(GrpcIngestClient.FullRecord(ipv6: i % 2 == 0, seq: i, endMs));
        }

        // Every optional feature on: about 2.7 MB, a message grpc-dotnet's 4 MB default barely fits.
        Assert.True(records.CalculateSize() > 2 * 1024 * 1024);

        await client.SendAsync(records).ResponseAsync.DefaultTimeout();

        await Timeouts.WaitUntilAsync(async () => await CountRowsAsync(server.ConnectionString) == 10_000,
            what: "10,000 rows");
    }

    [Fact]
    public async Task Send_OverConfiguredLimit_ResourceExhaustedAndServerKeepsServing()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Ingest:MaxReceiveMessageSize"] = "65536",
        });
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var big = GrpcIngestClient.Batch(5_000, 0, endMs);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.SendAsync(big).ResponseAsync.DefaultTimeout());
        await client.SendAsync(GrpcIngestClient.Batch(10, 0, endMs)).ResponseAsync.DefaultTimeout();

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        await Timeouts.WaitUntilAsync(async () => await CountRowsAsync(server.ConnectionString) == 10, what: "10 rows");
    }

    [Fact]
    public async Task Send_MalformedBody_InvalidArgumentAndNothingElseLost()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await client.SendAsync(GrpcIngestClient.Batch(5, 0, endMs)).ResponseAsync.DefaultTimeout();
        var valid = Google.Protobuf.MessageExtensions.ToByteArray(GrpcIngestClient.Batch(3, 100, endMs));
        byte[][] malformed =
        [
            [0x0A, 0xFF, 0xFF, 0x01],          // entries: a length past the end
            valid[..^3],                       // truncated
            [0x0A, 0x02, 0x32, 0x05],          // network: inner length past its parent
            [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], // a malformed varint tag
        ];

        foreach (var body in malformed)
        {
            var ex = await Assert.ThrowsAsync<RpcException>(
                () => GrpcIngestClient.SendRawAsync(channel, body).DefaultTimeout());
            Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
            Assert.Contains("malformed pbflow.Records", ex.Status.Detail, StringComparison.Ordinal);
        }

        await GrpcIngestClient.SendRawAsync(channel, valid).DefaultTimeout();

        await Timeouts.WaitUntilAsync(async () => await CountRowsAsync(server.ConnectionString) == 8, what: "8 rows");
    }

    [Fact]
    public async Task Send_ChannelFull_ResourceExhaustedQuicklyAndAcknowledgedRowsAllWritten()
    {
        const int Capacity = 2_000;
        const int PerSend = 500;
        const int Writers = 2;
        const int BatchSize = 1_000;
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?>
        {
            ["Storage:ChannelCapacity"] = Capacity.ToString(CultureInfo.InvariantCulture),
            // The memory durability: a full channel is backpressure (the journal durability absorbs it).
            ["Storage:Durability"] = "memory",
            ["Storage:BatchSize"] = BatchSize.ToString(CultureInfo.InvariantCulture),
            ["Storage:Writers"] = Writers.ToString(CultureInfo.InvariantCulture),
        });
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        // Hold the writer: COPY into flows waits for this lock (reads do not), so the channel can only fill.
        await using var blocker = new NpgsqlConnection(server.ConnectionString);
        await blocker.OpenAsync().DefaultTimeout();
        var hold = await blocker.BeginTransactionAsync().AsTask().DefaultTimeout();
        await using (var lockFlows = new NpgsqlCommand("LOCK TABLE flows IN SHARE MODE", blocker, hold))
        {
            await lockFlows.ExecuteNonQueryAsync().DefaultTimeout();
        }

        var acknowledged = 0;
        RpcException? refused = null;
        var refusalTime = TimeSpan.Zero;
        for (var send = 0; send < 20 && refused is null; send++)
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await client.SendAsync(GrpcIngestClient.Batch(PerSend, (uint)(send * PerSend), endMs))
                    .ResponseAsync.DefaultTimeout();
                acknowledged += PerSend;
            }
            catch (RpcException ex)
            {
                refused = ex;
                refusalTime = Stopwatch.GetElapsedTime(started);
            }
        }

        // Refused while the writer is still held: the answer did not wait for the database.
        Assert.NotNull(refused);
        Assert.Equal(StatusCode.ResourceExhausted, refused.StatusCode);
        Assert.True(refusalTime < TimeSpan.FromSeconds(5), $"refusal took {refusalTime}");
        // At most: the channel full, each writer holding one batch, and the last send that still fit.
        Assert.InRange(acknowledged, Capacity, Capacity + (Writers * BatchSize) + PerSend);
        // Nothing committed yet (asked of the writer: a count(*) here could queue behind a partition
        // creation that waits for the held lock).
        Assert.Equal(0, server.Services.GetRequiredService<FlowBatchWriter>().RowsWritten);

        await hold.RollbackAsync().DefaultTimeout();
        await Timeouts.WaitUntilAsync(async () => await CountRowsAsync(server.ConnectionString) >= acknowledged,
            what: acknowledged + " rows");
        await Task.Delay(300);
        Assert.Equal(acknowledged, await CountRowsAsync(server.ConnectionString));
    }

    [Fact]
    public async Task Door_FlowsWhoseKeysWereStored_CarryTheirIdsAndAreStoredWithThem()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        await client.SendAsync(GrpcIngestClient.Batch(10, 0, endMs)).ResponseAsync.DefaultTimeout();
        await Timeouts.WaitUntilAsync(async () => await CountRowsAsync(server.ConnectionString) == 10, what: "10 rows");

        // The same keys again, through the door the transports use: the writer does not look them up again.
        var door = server.Services.GetRequiredService<FlowIngestService>();
        var again = GrpcIngestClient.Batch(10, 100, endMs).Entries
            .Select(r => PbflowMapper.TryMap(r, endMs / 1000, out _)!).ToList();
        Assert.Equal(IngestOutcome.Accepted, await door.AcceptAsync(again, enrich: true).DefaultTimeout());
        Assert.All(again, r => Assert.NotEqual(0, r.KeyIds.Generation));
        await Timeouts.WaitUntilAsync(async () => await CountRowsAsync(server.ConnectionString) == 20, what: "20 rows");

        var carried = again.Select(r => (r.KeyIds.Src, r.KeyIds.Dst, r.KeyIds.Context)).ToHashSet();
        var stored = new HashSet<(int, int, int)>();
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        await using var command = new NpgsqlCommand("SELECT DISTINCT src_endpoint, dst_endpoint, context FROM flow_rows",
            connection);
        await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
        while (await reader.ReadAsync().DefaultTimeout())
        {
            stored.Add((reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2)));
        }

        Assert.Equal(stored, carried);
    }

    [Fact]
    public async Task Send_Records_CountedInMetrics()
    {
        await using var server = await RunningServer.StartAsync();
        using var channel = GrpcIngestClient.Channel(server.GrpcPort);
        var client = new Collector.CollectorClient(channel);

        await client.SendAsync(GrpcIngestClient.Batch(7, 0, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()))
            .ResponseAsync.DefaultTimeout();
        var metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();

        Assert.Contains("netobserv_ingest_records_received_total{transport=\"grpc\"} 7", metrics, StringComparison.Ordinal);
    }

    private static void AssertCommonColumns(Flows.Pbflow.Record sent, Dictionary<string, object?> row, long before,
        long after)
    {
        var endMs = (sent.TimeFlowEnd.Seconds * 1000) + (sent.TimeFlowEnd.Nanos / 1_000_000);
        var startMs = (sent.TimeFlowStart.Seconds * 1000) + (sent.TimeFlowStart.Nanos / 1_000_000);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(endMs).UtcDateTime, row["time_end"]);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(startMs).UtcDateTime, row["time_start"]);
        var received = new DateTimeOffset((DateTime)row["time_received"]!).ToUnixTimeSeconds();
        Assert.InRange(received, before, after);
        Assert.Equal("default", row["tenant"]);
        Assert.Equal(PhysicalAddress.Parse("0A-58-0A-80-00-05"), row["src_mac"]);
        Assert.Equal(PhysicalAddress.Parse("11-22-33-44-55-66"), row["dst_mac"]);
        Assert.Equal(46, row["dscp"]);
        Assert.Equal((long)sent.Bytes, row["bytes"]);
        Assert.Equal((long)sent.Packets, row["packets"]);
        Assert.Equal(50, row["sampling"]);
        Assert.Equal(1, row["flow_direction"]);
        Assert.Equal(["veth0a1b", "br-ex"], (string[])row["interfaces"]!);
        Assert.Equal([0, 1], (int[])row["if_directions"]!);
        Assert.Equal(true, row["duplicate"]);
        Assert.Equal(4242, row["dns_id"]);
        Assert.Equal(0x8183, row["dns_flags"]);
        Assert.Equal(17L, row["dns_latency_ms"]);
        Assert.Equal(5, row["dns_errno"]);
        Assert.Equal("api.payments.svc.cluster.local", row["dns_name"]);
        Assert.Equal(1_234_500L, row["rtt_ns"]);
        Assert.Equal(3000L, row["pkt_drop_bytes"]);
        Assert.Equal(2L, row["pkt_drop_packets"]);
        Assert.Equal("TCP_ESTABLISHED", row["pkt_drop_latest_state"]);
        Assert.Equal("SKB_DROP_REASON_NO_SOCKET", row["pkt_drop_latest_drop_cause"]);
    }

    private static async Task<List<Dictionary<string, object?>>> WaitForRowsAsync(string connectionString, int count)
    {
        await Timeouts.WaitUntilAsync(async () => await CountRowsAsync(connectionString) >= count, what: count + " rows");
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT * FROM flows", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        Assert.Equal(count, rows.Count);
        return rows;
    }

    private static async Task<long> CountRowsAsync(string connectionString, string where = "1=1")
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM flows WHERE " + where, connection);
        command.CommandTimeout = 2;
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
