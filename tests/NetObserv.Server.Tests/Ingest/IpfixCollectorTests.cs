using System.Net;
using System.Net.Sockets;
using NetObserv.Server.Loadgen;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;
using Flow = NetObserv.Server.Tests.Ingest.IpfixPackets.Flow;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>IPFIX and NetFlow v9 over UDP on loopback into the whole server, then rows in PostgreSQL.</summary>
public sealed class IpfixCollectorTests
{
    private static List<Flow> MakeFlows(int count, int seed)
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var flows = new List<Flow>();
        for (var i = 0; i < count; i++)
        {
            flows.Add(new Flow($"10.{seed}.0.{i + 1}", "10.99.0.1", 40000 + i, i % 2 == 0 ? 443 : 53, i % 2 == 0 ? 6 : 17,
                1000 + (i * 37), 3 + i, now - 5000 - i, now - 1000 + i));
        }

        return flows;
    }

    private static async Task SendAsync(IPAddress address, int port, params byte[][] packets)
    {
        using var client = new Socket(address.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        foreach (var packet in packets)
        {
            await client.SendToAsync(packet, new IPEndPoint(address, port)).DefaultTimeout();
        }
    }

    private static async Task<long> CountAsync(RunningServer server, string where = "true")
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM flows WHERE " + where, connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<List<(string Src, string Dst, int SrcPort, int DstPort, int Proto, long Bytes, long Packets,
        long StartMs, long EndMs, string Agent)>> RowsAsync(RunningServer server)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT host(src_addr), host(dst_addr), src_port, dst_port, proto, bytes, packets, " +
            "(extract(epoch FROM time_start) * 1000)::bigint, (extract(epoch FROM time_end) * 1000)::bigint, host(agent_ip) " +
            "FROM flows ORDER BY src_port", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, int, int, int, long, long, long, long, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4),
                reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8), reader.GetString(9)));
        }

        return rows;
    }

    private static Task WaitForRowsAsync(RunningServer server, long expected) =>
        Timeouts.WaitUntilAsync(async () => await CountAsync(server) >= expected, what: $"{expected} rows in flows");

    [Fact]
    public async Task Collector_IpfixTemplateThenData_RowsInPostgres()
    {
        await using var server = await RunningServer.StartAsync();
        var flows = MakeFlows(5, seed: 1);

        await SendAsync(IPAddress.Loopback, server.IpfixPort,
            IpfixPackets.IpfixTemplate(256, domain: 1), IpfixPackets.IpfixData(256, domain: 1, flows));
        await WaitForRowsAsync(server, flows.Count);

        var rows = await RowsAsync(server);
        Assert.Equal(flows.Count, rows.Count);
        for (var i = 0; i < flows.Count; i++)
        {
            var f = flows[i];
            Assert.Equal((f.Src, f.Dst, f.SrcPort, f.DstPort, f.Proto, f.Bytes, f.Packets, f.StartMs, f.EndMs, "127.0.0.1"), rows[i]);
        }
    }

    [Fact]
    public async Task Collector_NetflowV9OnNetflowPort_RowsInPostgres()
    {
        await using var server = await RunningServer.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds() * 1000;
        var boot = now - 3_600_000;
        var flows = MakeFlows(4, seed: 2).ConvertAll(f => f with { StartMs = now - 4000, EndMs = now - 2000 });

        await SendAsync(IPAddress.Loopback, server.NetflowPort, IpfixPackets.NetflowV9(300, sourceId: 9, boot, now, flows));
        await WaitForRowsAsync(server, flows.Count);

        var rows = await RowsAsync(server);
        Assert.Equal(flows.Select(f => (f.Src, f.Bytes, f.Packets, f.StartMs, f.EndMs)),
            rows.Select(r => (r.Src, r.Bytes, r.Packets, r.StartMs, r.EndMs)));
    }

    [Fact]
    public async Task Collector_MalformedPackets_CountedAndLaterPacketsStored()
    {
        await using var server = await RunningServer.StartAsync();
        var flows = MakeFlows(3, seed: 3);
        var template = IpfixPackets.IpfixTemplate(256, domain: 1);
        var data = IpfixPackets.IpfixData(256, domain: 1, flows);

        await SendAsync(IPAddress.Loopback, server.IpfixPort,
            [0, 5, 1, 2, 3], // NetFlow v5 is not spoken here
            data[..30], // truncated
            IpfixPackets.IpfixData(256, domain: 1, flows), // data before its template
            template, data);
        await WaitForRowsAsync(server, flows.Count);

        var metrics = await server.Http.GetStringAsync("/metrics").DefaultTimeout();
        Assert.Contains("netobserv_ipfix_drops_total{reason=\"unknown_version\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("netobserv_ipfix_drops_total{reason=\"bad_message_length\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("netobserv_ipfix_drops_total{reason=\"missing_template\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("netobserv_ipfix_records_total 3", metrics, StringComparison.Ordinal);
        Assert.Equal(flows.Count, await CountAsync(server));
    }

    [Fact]
    public async Task Collector_ListenAnyDualMode_AcceptsIPv4AndIPv6Loopback()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Server:ListenAddress"] = "*" });
        var v4 = MakeFlows(2, seed: 4);
        var v6 = MakeFlows(3, seed: 5);

        await SendAsync(IPAddress.Loopback, server.IpfixPort, IpfixPackets.IpfixTemplate(256, 1), IpfixPackets.IpfixData(256, 1, v4));
        await SendAsync(IPAddress.IPv6Loopback, server.IpfixPort, IpfixPackets.IpfixTemplate(256, 1), IpfixPackets.IpfixData(256, 1, v6));
        await WaitForRowsAsync(server, v4.Count + v6.Count);

        Assert.Equal(v4.Count, await CountAsync(server, "agent_ip = '127.0.0.1'"));
        Assert.Equal(v6.Count, await CountAsync(server, "agent_ip = '::1'"));
    }

    [Fact]
    public async Task Loadgen_IpfixAtRate_EveryFlowStored()
    {
        await using var server = await RunningServer.StartAsync();

        var (sent, _, _) = await IpfixLoadGenerator.SendAsync(new IPEndPoint(IPAddress.Loopback, server.IpfixPort), rate: 2000,
            TimeSpan.FromSeconds(1), CancellationToken.None).DefaultTimeout();
        await WaitForRowsAsync(server, sent);

        Assert.True(sent >= IpfixLoadMessages.RecordsPerMessage);
        Assert.Equal(sent, await CountAsync(server));
        Assert.Equal(sent, await CountAsync(server, "src_addr << '10.0.0.0/8' AND dst_addr << '10.200.0.0/16' AND bytes > 0"));
    }
}
