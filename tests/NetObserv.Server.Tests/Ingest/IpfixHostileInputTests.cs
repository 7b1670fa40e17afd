using System.Net;
using System.Net.Sockets;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Flow = NetObserv.Server.Tests.Ingest.IpfixPackets.Flow;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>IPFIX records the store cannot hold, over UDP into the whole server: dropped and counted, the rest stored.</summary>
public sealed class IpfixHostileInputTests
{
    [Fact]
    public async Task Collector_OutOfRangeRecords_DroppedAndCountedRestOfPacketStored()
    {
        await using var server = await RunningServer.StartAsync();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var year9999 = new DateTimeOffset(9999, 6, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var year1971 = new DateTimeOffset(1971, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        List<Flow> flows =
        [
            new("10.1.0.1", "10.99.0.1", 40001, 443, 6, 1000, 3, now - 5000, now - 1000),
            new("10.1.0.2", "10.99.0.1", 40002, 443, 6, -1, 3, now - 5000, now - 1000), // octets 2^64-1
            new("10.1.0.3", "10.99.0.1", 40003, 443, 6, 1000, 3, year9999 - 5000, year9999),
            new("10.1.0.4", "10.99.0.1", 40004, 443, 6, 1000, 3, year1971 - 5000, year1971),
            new("10.1.0.5", "10.99.0.1", 40005, 443, 6, 1000, 3, now - 1000, now - 5000), // start after end
            new("10.1.0.6", "10.99.0.1", 40006, 443, 6, 2000, 3, now - 5000, now - 1000),
        ];

        using var exporter = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        var endpoint = new IPEndPoint(IPAddress.Loopback, server.IpfixPort);
        await exporter.SendToAsync(IpfixPackets.IpfixTemplate(256, domain: 1), endpoint).DefaultTimeout();
        await exporter.SendToAsync(IpfixPackets.IpfixData(256, domain: 1, flows), endpoint).DefaultTimeout();
        // Another exporter's good flows right after are stored.
        using var other = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        List<Flow> good = [new("10.2.0.1", "10.99.0.1", 41001, 53, 17, 500, 1, now - 2000, now - 500)];
        await other.SendToAsync(IpfixPackets.IpfixTemplate(300, domain: 2), endpoint).DefaultTimeout();
        await other.SendToAsync(IpfixPackets.IpfixData(300, domain: 2, good), endpoint).DefaultTimeout();

        await Timeouts.WaitUntilAsync(async () => await GrpcHostileInputTests.CountAsync(server, "src_port = 41001") == 1,
            TimeSpan.FromSeconds(10), "the other exporter's row");
        Assert.Equal(2, await GrpcHostileInputTests.CountAsync(server, "src_port BETWEEN 40001 AND 40006"));
        Assert.Equal(2, await GrpcHostileInputTests.CountAsync(server, "src_port IN (40001, 40006)"));
        var metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();
        Assert.Contains("netobserv_ipfix_drops_total{reason=\"counter_out_of_range\"} 1", metrics, StringComparison.Ordinal);
        Assert.Contains("netobserv_ingest_records_rejected_total{transport=\"ipfix\",reason=\"too_far_in_future\"} 1",
            metrics, StringComparison.Ordinal);
        Assert.Contains("netobserv_ingest_records_rejected_total{transport=\"ipfix\",reason=\"too_old\"} 1",
            metrics, StringComparison.Ordinal);
        Assert.Contains("netobserv_ingest_records_rejected_total{transport=\"ipfix\",reason=\"start_after_end\"} 1",
            metrics, StringComparison.Ordinal);
    }
}
