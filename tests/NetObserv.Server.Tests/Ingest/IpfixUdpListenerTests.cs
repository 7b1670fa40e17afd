using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NetObserv.Flows.Ipfix;
using NetObserv.Flows.Pipeline;
using NetObserv.Flows.Validation;
using NetObserv.Server.Hosting;
using NetObserv.Server.Ingest;
using NetObserv.Storage;
using NetObserv.Testing;
using Flow = NetObserv.Server.Tests.Ingest.IpfixPackets.Flow;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>The UDP listener and collector on their own, over real loopback sockets: drops are counted, never blocking.</summary>
public sealed class IpfixUdpListenerTests
{
    [Fact]
    public async Task RunAsync_QueueFull_DropsAndCountsWithoutBlocking()
    {
        var queue = Channel.CreateBounded<UdpPacket>(new BoundedChannelOptions(2) { FullMode = BoundedChannelFullMode.Wait });
        var counters = new IpfixDecodeCounters();
        using var listener = UdpFlowListener.Bind(IPAddress.Loopback, 0, 0, queue.Writer, counters, NullLogger.Instance);
        using var cts = new CancellationTokenSource();
        var loop = listener.RunAsync(cts.Token);

        using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        for (var i = 0; i < 6; i++)
        {
            await client.SendToAsync(new byte[] { 0, 10, (byte)i }, listener.LocalEndPoint).DefaultTimeout();
        }

        await Timeouts.WaitUntilAsync(() => Task.FromResult(counters.Dropped(IpfixDropReason.QueueFull) == 4),
            what: "4 queue-full drops");
        await cts.CancelAsync();
        await loop.DefaultTimeout();

        Assert.Equal(2, queue.Reader.Count);
        Assert.True(queue.Reader.TryRead(out var first));
        Assert.Equal(3, first.Length);
        Assert.Equal(IPAddress.Loopback, first.Exporter);
        Assert.Equal(new byte[] { 0, 10, 0 }, first.Buffer[..first.Length]);
        ArrayPool<byte>.Shared.Return(first.Buffer);
    }

    [Fact]
    public async Task Collector_FlowChannelFull_DropsAndCountsTheRest()
    {
        var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var flows = new FlowChannel(capacity: 2);
        using var collector = new IpfixCollectorService(
            Options.Create(new ServerOptions { ListenAddress = "127.0.0.1", IpfixPort = -1, NetflowPort = 0 }),
            Options.Create(new IpfixOptions()),
            new FlowIngestService(flows, [], new FlowValidator(TimeSpan.FromDays(7), TimeSpan.FromMinutes(10), TimeProvider.System),
                Options.Create(new StorageOptions { Durability = "memory" }),
                services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            new CollectorMetrics(services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>()),
            services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
            NullLogger<IpfixCollectorService>.Instance, services);
        await collector.StartAsync(CancellationToken.None).DefaultTimeout();
        var port = collector.EndPointOf(IpfixCollectorService.IpfixProtocol)!.Port;
        try
        {
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var records = Enumerable.Range(1, 5)
                .Select(i => new Flow($"10.0.0.{i}", "10.0.1.1", 1000 + i, 80, 6, 100 * i, i, now - 1000, now))
                .ToList();
            using var client = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
            var target = new IPEndPoint(IPAddress.Loopback, port);
            await client.SendToAsync(IpfixPackets.IpfixTemplate(256, 1), target).DefaultTimeout();
            await client.SendToAsync(IpfixPackets.IpfixData(256, 1, records), target).DefaultTimeout();

            await Timeouts.WaitUntilAsync(() => Task.FromResult(collector.Counters.Dropped(IpfixDropReason.ChannelFull) == 3),
                what: "3 channel-full drops");

            Assert.Equal(5, collector.Counters.Records);
            Assert.Equal(2, flows.Count);
            var taken = new List<NetObserv.Flows.FlowRecord>();
            flows.Drain(taken, 10);
            Assert.Equal([100L, 200L], taken.Select(r => r.Bytes));
        }
        finally
        {
            await collector.StopAsync(CancellationToken.None).DefaultTimeout();
            await services.DisposeAsync();
        }
    }
}
