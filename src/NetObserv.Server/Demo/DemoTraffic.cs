using System.Net;
using NetObserv.Flows.Pbflow;
using NetObserv.Server.Loadgen;

namespace NetObserv.Server.Demo;

/// <summary>
/// The demo's traffic over a <see cref="SyntheticCluster"/>, as the cluster's eBPF agents would report it:
/// <list type="bullet">
/// <item>a background of short flows (<see cref="SyntheticCluster.NextFlow"/>: services, DNS, internet,
/// node to node, ICMP) whose rate follows a daily cycle, quietest at 03:00 UTC and busiest at 15:00 UTC;</item>
/// <item>a few heavy hitters: long-lived connections between fixed workload pairs, reported every five
/// seconds, that carry most of the bytes (same daily cycle);</item>
/// <item>each flow reported by every node it crosses: the source node's agent reports it leaving
/// (egress) and, when the destination lives on another node or behind a Service, the destination node's
/// agent reports it arriving (ingress, at the pod address the Service picked).</item>
/// </list>
/// A weight above one makes each record stand for that many flows (bytes and packets multiplied,
/// heavy-hitter reports spaced that much further apart), for a backfill of many hours.
/// </summary>
internal sealed class DemoTraffic
{
    private const long ReportIntervalMs = 5_000;
    private const double BackgroundVolumeScale = 0.25;

    /// <summary>Heavy hitters: source and destination workload, destination port, bytes per second at the busiest hour.</summary>
    private static readonly (string SrcNamespace, string Src, string DstNamespace, string Dst, double BytesPerSecond)[] s_heavyHitters =
    [
        ("analytics", "ingest", "analytics", "kafka", 120e6),
        ("payments", "api", "payments", "postgres", 60e6),
        ("shop", "checkout", "payments", "api", 25e6),
    ];

    private readonly SyntheticCluster _cluster;
    private readonly Random _random;
    private readonly double _peakFlowsPerSecond;
    private readonly Dictionary<IPAddress, Landing> _landings = [];
    private readonly List<Connection> _connections = [];
    private double _carry;

    public DemoTraffic(SyntheticCluster cluster, int seed, double peakFlowsPerSecond)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        _cluster = cluster;
        _random = new Random(seed);
        _peakFlowsPerSecond = peakFlowsPerSecond;
        foreach (var pod in cluster.Pods.Where(p => !p.HostNetwork))
        {
            _landings[pod.IPv4] = new Landing(pod, null, null);
            _landings[pod.IPv6] = new Landing(pod, null, null);
        }

        foreach (var workload in cluster.Workloads.Where(w => w.ServiceIPv4 is not null && w.Pods.Count > 0))
        {
            _landings[workload.ServiceIPv4!] = new Landing(null, workload, null);
            _landings[workload.ServiceIPv6!] = new Landing(null, workload, null);
        }

        foreach (var node in cluster.Nodes)
        {
            _landings[node.IPv4] = new Landing(null, null, node);
            _landings[node.IPv6] = new Landing(null, null, node);
        }

        foreach (var (srcNamespace, src, dstNamespace, dst, bytesPerSecond) in s_heavyHitters)
        {
            var from = Find(srcNamespace, src);
            var to = Find(dstNamespace, dst);
            if (from is null || to is null || from.Pods.Count == 0 || to.Pods.Count == 0)
            {
                continue;
            }

            var count = Math.Min(3, from.Pods.Count * to.Pods.Count);
            for (var i = 0; i < count; i++)
            {
                _connections.Add(new Connection(from.Pods[i % from.Pods.Count], to.Pods[i % to.Pods.Count],
                    _random.Next(32768, 61000), to.Port, bytesPerSecond / count, _random.NextInt64(ReportIntervalMs)));
            }
        }
    }

    /// <summary>The workload pairs that carry most bytes, as <c>namespace/workload</c> names.</summary>
    public static IEnumerable<(string Source, string Destination)> HeavyHitters =>
        s_heavyHitters.Select(h => ($"{h.SrcNamespace}/{h.Src}", $"{h.DstNamespace}/{h.Dst}"));

    /// <summary>
    /// The share of the busiest hour's traffic at <paramref name="timeMs"/> (epoch milliseconds): from
    /// one third at 03:00 UTC to one at 15:00 UTC, as a cosine.
    /// </summary>
    public static double DailyFactor(long timeMs)
    {
        var hours = timeMs / 3_600_000.0 % 24;
        return 1.0 / 3 + (2.0 / 3 * 0.5 * (1 - Math.Cos(2 * Math.PI * (hours - 3) / 24)));
    }

    /// <summary>The mean of <see cref="DailyFactor"/> over a day.</summary>
    public static double AverageDailyFactor => 2.0 / 3;

    /// <summary>
    /// Appends to <paramref name="into"/> the reports of flows that end in (<paramref name="fromMs"/>,
    /// <paramref name="toMs"/>] (epoch milliseconds), each standing for <paramref name="weight"/> flows.
    /// Returns how many records were added.
    /// </summary>
    public int Generate(long fromMs, long toMs, int weight, List<Record> into)
    {
        ArgumentNullException.ThrowIfNull(into);
        ArgumentOutOfRangeException.ThrowIfLessThan(weight, 1);
        if (toMs <= fromMs)
        {
            return 0;
        }

        var before = into.Count;
        var span = toMs - fromMs;
        var expected = (_peakFlowsPerSecond * DailyFactor(fromMs + (span / 2)) * span / 1000.0 / weight) + _carry;
        var count = (int)expected;
        _carry = expected - count;
        for (var i = 0; i < count; i++)
        {
            // A flow that ends at a random time of the window, with the duration NextFlow gave it.
            var end = fromMs + 1 + _random.NextInt64(span);
            var flow = _cluster.NextFlow(_random, end);
            var packets = Math.Max(1, (long)(flow.Packets * BackgroundVolumeScale)) * weight;
            var bytes = Math.Max(64 * packets, (long)(flow.Bytes * BackgroundVolumeScale) * weight);
            Emit(flow with { Bytes = bytes, Packets = packets, StartMs = end - (flow.EndMs - flow.StartMs), EndMs = end },
                into);
        }

        var period = ReportIntervalMs * weight;
        foreach (var connection in _connections)
        {
            // Reports fall on the connection's own phase, every period.
            var offset = (((connection.PhaseMs - fromMs) % period) + period) % period;
            var first = fromMs + (offset == 0 ? period : offset);
            for (var end = first; end <= toMs; end += period)
            {
                var jitter = 0.8 + (0.4 * _random.NextDouble());
                var bytes = (long)(connection.BytesPerSecond * DailyFactor(end) * period / 1000 * jitter);
                var packets = Math.Max(1, bytes / 1_400);
                var src = connection.From;
                var dst = connection.To;
                var flow = new SyntheticCluster.Flow(src.IPv4, dst.IPv4, connection.SrcPort, connection.DstPort, 6, 0, 0,
                    src.Mac, dst.Mac, src.Node.IPv4, 1, src.Interface, end - period, end, bytes, packets, 0x10, 0,
                    _random.Next(50_000, 400_000), 0, 0, 0, null, 0, 0, 0, 0);
                Emit(flow, into);
            }
        }

        return into.Count - before;
    }

    /// <summary>Adds the source node's report and, when another node (or a Service) delivers the flow, that node's.</summary>
    private void Emit(SyntheticCluster.Flow flow, List<Record> into)
    {
        into.Add(GrpcLoadGenerator.ToRecord(flow, 1));
        if (flow.Direction != 1 || !_landings.TryGetValue(flow.Dst, out var landing))
        {
            return;
        }

        var v6 = flow.IsIPv6;
        var pod = landing.Pod;
        if (landing.Service is { } service)
        {
            pod = service.Pods[_random.Next(service.Pods.Count)];
        }

        SyntheticCluster.Flow arriving;
        if (pod is not null)
        {
            if (landing.Service is null && pod.Node.IPv4.Equals(flow.AgentIP))
            {
                return; // both ends on one node: one report
            }

            arriving = flow with
            {
                Dst = v6 ? pod.IPv6 : pod.IPv4,
                DstMac = pod.Mac,
                AgentIP = pod.Node.IPv4,
                Direction = 0,
                Interface = pod.Interface,
            };
        }
        else
        {
            var node = landing.Node!;
            if (node.IPv4.Equals(flow.AgentIP))
            {
                return;
            }

            arriving = flow with { DstMac = node.Mac, AgentIP = node.IPv4, Direction = 0, Interface = "br-ex" };
        }

        into.Add(GrpcLoadGenerator.ToRecord(arriving, 1));
    }

    private SyntheticCluster.Workload? Find(string ns, string name) =>
        _cluster.Workloads.FirstOrDefault(w => w.Namespace == ns && w.Name == name);

    /// <summary>Where a destination address delivers: a pod, a Service's pods, or a node.</summary>
    private sealed record Landing(SyntheticCluster.Pod? Pod, SyntheticCluster.Workload? Service, SyntheticCluster.Node? Node);

    /// <summary>A long-lived heavy-hitter connection.</summary>
    private sealed record Connection(SyntheticCluster.Pod From, SyntheticCluster.Pod To, int SrcPort, int DstPort,
        double BytesPerSecond, long PhaseMs);
}
