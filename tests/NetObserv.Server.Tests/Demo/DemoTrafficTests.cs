using NetObserv.Flows.Pbflow;
using NetObserv.Server.Commands;
using NetObserv.Server.Demo;
using NetObserv.Server.Loadgen;
using PbRecord = NetObserv.Flows.Pbflow.Record;

namespace NetObserv.Server.Tests.Demo;

/// <summary>The demo's settings and its traffic model, without a server.</summary>
public sealed class DemoTrafficTests
{
    [Theory]
    [InlineData("24h", 24 * 3600)]
    [InlineData("90m", 90 * 60)]
    [InlineData("2d", 2 * 86400)]
    [InlineData("1h30m", 5400)]
    [InlineData("45s", 45)]
    [InlineData("01:30:00", 5400)]
    [InlineData("", 0)]
    public void TryParseDuration_ValidText_Parses(string text, int seconds)
    {
        Assert.True(DemoOptions.TryParseDuration(text, out var duration));
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("24")]
    [InlineData("h")]
    [InlineData("-1h")]
    [InlineData("24x")]
    public void Validate_BadBackfill_ReportsIt(string text)
    {
        var errors = new DemoOptions { Enabled = true, Backfill = text }.Validate();
        Assert.Contains(errors, e => e.Contains("Demo:Backfill", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_DemoBackfillFlag_EnablesTheDemo()
    {
        var parsed = CommandLine.Parse(["serve", "--demo-backfill", "24h"]);
        Assert.Equal("24h", parsed.Values["Demo:Backfill"]);
        Assert.Equal("true", parsed.Values["Demo:Enabled"]);
    }

    [Fact]
    public void DailyFactor_Day_QuietestAt3AndBusiestAt15Utc()
    {
        var day = new DateTimeOffset(2026, 11, 25, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var factors = Enumerable.Range(0, 24).Select(h => DemoTraffic.DailyFactor(day + (h * 3_600_000L))).ToList();
        Assert.Equal(3, factors.IndexOf(factors.Min()));
        Assert.Equal(15, factors.IndexOf(factors.Max()));
        Assert.Equal(1.0 / 3, factors.Min(), 9);
        Assert.Equal(1.0, factors.Max(), 9);
    }

    [Fact]
    public void Generate_Hour_HeavyHittersCarryMostBytesAndCrossNodeFlowsAreReportedTwice()
    {
        var cluster = SyntheticCluster.Create(seed: 1);
        var traffic = new DemoTraffic(cluster, seed: 1, peakFlowsPerSecond: 50);
        var records = new List<PbRecord>();
        var start = new DateTimeOffset(2026, 11, 25, 15, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        for (var t = start; t < start + 3_600_000; t += 1_000)
        {
            traffic.Generate(t, t + 1_000, 1, records);
        }

        Assert.All(records, r => Assert.InRange(r.TimeFlowEnd.ToDateTimeOffset().ToUnixTimeMilliseconds(), start + 1, start + 3_600_000));

        // Heavy hitters: the workloads' pod addresses, from the cluster the traffic was built on.
        var heavy = DemoTraffic.HeavyHitters.ToList();
        var podOf = cluster.Pods.Where(p => !p.HostNetwork)
            .SelectMany(p => new[] { p.IPv4, p.IPv6 }.Select(a => (Address: a, Pod: p)))
            .ToDictionary(x => x.Address, x => x.Pod);
        string? Workload(IP ip) => podOf.TryGetValue(ip.Ipv4 != 0
            ? new System.Net.IPAddress(BitConverter.GetBytes(System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(ip.Ipv4)))
            : new System.Net.IPAddress(ip.Ipv6.ToByteArray()), out var pod) ? $"{pod.Workload.Namespace}/{pod.Workload.Name}" : null;
        var egress = records.Where(r => r.Direction == Direction.Egress).ToList();
        var heavyBytes = egress.Where(r => heavy.Contains((Workload(r.Network.SrcAddr) ?? "", Workload(r.Network.DstAddr) ?? "")))
            .Sum(r => (double)r.Bytes);
        Assert.True(heavyBytes > 0.6 * egress.Sum(r => (double)r.Bytes), $"heavy hitters carry {heavyBytes / egress.Sum(r => (double)r.Bytes):P0}");

        // An ingress report comes from another agent than its egress twin (same ports and times).
        var ingress = records.Where(r => r.Direction == Direction.Ingress && r.Transport.SrcPort != 0).ToList();
        Assert.NotEmpty(ingress);
        var twins = egress.ToLookup(r => (r.Transport.SrcPort, r.Transport.DstPort, r.TimeFlowEnd.Seconds, r.TimeFlowEnd.Nanos));
        var paired = ingress.Count(i => twins[(i.Transport.SrcPort, i.Transport.DstPort, i.TimeFlowEnd.Seconds, i.TimeFlowEnd.Nanos)]
            .Any(e => !e.AgentIp.Equals(i.AgentIp) && e.Bytes == i.Bytes));
        Assert.True(paired > ingress.Count / 2, $"{paired} of {ingress.Count} ingress reports have an egress twin");
    }
}
