using System.Net.Sockets;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Commands;
using NetObserv.Server.Loadgen;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>The gRPC load generator's command line and the synthetic cluster it draws traffic from.</summary>
public sealed class GrpcLoadgenTests
{
    [Fact]
    public void Parse_AllFlags_EveryValueRead()
    {
        var options = GrpcLoadCommand.Parse(["--protocol", "grpc", "--target", "[::1]:2055", "--rate", "50000",
            "--duration", "2m", "--flows-per-message", "10000", "--concurrency", "8", "--sampling", "50", "--seed", "7"]);

        Assert.Equal(new Uri("http://[::1]:2055"), options.Address);
        Assert.Equal(50_000, options.Rate);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Duration);
        Assert.Equal(10_000, options.FlowsPerMessage);
        Assert.Equal(8, options.Concurrency);
        Assert.Equal(50, options.Sampling);
        Assert.Equal(7, options.Seed);
    }

    [Fact]
    public void Parse_RateMax_NoRateLimit()
    {
        var options = GrpcLoadCommand.Parse(["--target", "collector:2055", "--rate", "max"]);

        Assert.Null(options.Rate);
        Assert.Equal(new Uri("http://collector:2055"), options.Address);
    }

    [Theory]
    [InlineData("--rate", "fast")]
    [InlineData("--rate", "-5")]
    [InlineData("--duration", "soon")]
    [InlineData("--duration", "0s")]
    [InlineData("--flows-per-message", "0")]
    [InlineData("--concurrency", "x")]
    public void Parse_BadValue_ClearError(string flag, string value)
    {
        var ex = Assert.Throws<CommandLineException>(() => GrpcLoadCommand.Parse(["--target", "h:1", flag, value]));

        Assert.Contains(flag, ex.Message, StringComparison.Ordinal);
        Assert.Contains(value, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NoTarget_ClearError()
    {
        var ex = Assert.Throws<CommandLineException>(() => GrpcLoadCommand.Parse(["--rate", "10"]));

        Assert.Contains("--target", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("30s", 30_000)]
    [InlineData("5m", 300_000)]
    [InlineData("1h", 3_600_000)]
    [InlineData("90", 90_000)]
    [InlineData("00:01:30", 90_000)]
    public void TryParseDuration_Forms_Milliseconds(string text, int milliseconds)
    {
        Assert.True(GrpcLoadOptions.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), duration);
    }

    [Fact]
    public void Create_SameSeed_SameCluster()
    {
        var a = SyntheticCluster.Create(seed: 3);
        var b = SyntheticCluster.Create(seed: 3);

        Assert.Equal(a.Endpoints().Select(e => (e.Address, e.Name)), b.Endpoints().Select(e => (e.Address, e.Name)));
    }

    [Fact]
    public void Endpoints_EveryAddressOnce_PodsServicesAndNodesWithMetadata()
    {
        var cluster = SyntheticCluster.Create(nodeCount: 4, scale: 2);

        var endpoints = cluster.Endpoints().ToList();

        Assert.Equal(endpoints.Count, endpoints.Select(e => e.Address).Distinct().Count());
        Assert.Equal(["Node", "Pod", "Service"], endpoints.Select(e => e.Kind).Distinct().Order());
        Assert.All(endpoints.Where(e => e.Kind == "Pod"), e =>
        {
            Assert.NotNull(e.Namespace);
            Assert.NotNull(e.HostName);
            Assert.NotNull(e.Zone);
        });
        Assert.Contains(endpoints, e => e.Kind == "Pod" && e.OwnerKind == "Deployment");
        Assert.Contains(endpoints, e => e.Kind == "Pod" && e.OwnerKind == "StatefulSet");
        Assert.Contains(cluster.Namespaces, n => n.Infra && n.Name.StartsWith("kube-", StringComparison.Ordinal));
        Assert.Contains(cluster.Pods, p => p.HostNetwork && p.IPv4.Equals(p.Node.IPv4));
        Assert.Contains(cluster.Workloads, w => w.Kind == "Deployment" && w.ControllerKind == "ReplicaSet");
        Assert.Contains(cluster.Workloads, w => w.Kind == "CronJob" && w.ControllerKind == "Job");
        Assert.Equal(4, cluster.Nodes.Count);
    }

    [Fact]
    public void NextFlow_ManyDraws_MixOfProtocolsFamiliesAndDirections()
    {
        var cluster = SyntheticCluster.Create();
        var random = new Random(5);
        const long Now = 1_780_000_000_000;

        var flows = Enumerable.Range(0, 5_000).Select(_ => cluster.NextFlow(random, Now)).ToList();

        Assert.Equal([1, 6, 17, 58], flows.Select(f => f.Proto).Distinct().Order());
        Assert.Contains(flows, f => f.IsIPv6);
        Assert.Contains(flows, f => !f.IsIPv6);
        Assert.Contains(flows, f => f.Direction == 0);
        Assert.Contains(flows, f => f.DnsId != 0 && f.DstPort == 53 && f.DnsName is not null);
        Assert.Contains(flows, f => f.DropPackets > 0);
        Assert.All(flows, f =>
        {
            Assert.Equal(f.Src.AddressFamily, f.Dst.AddressFamily);
            Assert.InRange(f.EndMs, Now - 5_000, Now);
            Assert.True(f.StartMs <= f.EndMs);
            Assert.True(f.Packets > 0);
        });
    }

    [Fact]
    public void ToRecord_SyntheticFlows_MapBackToTheSameFlow()
    {
        var cluster = SyntheticCluster.Create();
        var random = new Random(9);

        for (var i = 0; i < 500; i++)
        {
            var flow = cluster.NextFlow(random, 1_780_000_000_000);
            var mapped = PbflowMapper.Map(GrpcLoadGenerator.ToRecord(flow, sampling: 10), 1);

            Assert.Equal(flow.Src, mapped.SrcAddr);
            Assert.Equal(flow.Dst, mapped.DstAddr);
            Assert.Equal(flow.Proto, mapped.Proto);
            Assert.Equal(flow.EndMs, mapped.TimeFlowEndMs);
            Assert.Equal(flow.StartMs, mapped.TimeFlowStartMs);
            Assert.Equal(flow.Bytes, mapped.Bytes);
            Assert.Equal(flow.AgentIP, mapped.AgentIP);
            Assert.Equal(flow.IsIPv6 ? AddressFamily.InterNetworkV6 : AddressFamily.InterNetwork,
                mapped.SrcAddr!.AddressFamily);
            Assert.Equal(10, mapped.Sampling);
            if (flow.Proto is 6 or 17)
            {
                Assert.Equal(flow.DstPort, mapped.DstPort);
            }
            else
            {
                Assert.Equal(flow.IcmpType, mapped.IcmpType);
            }
        }
    }
}
