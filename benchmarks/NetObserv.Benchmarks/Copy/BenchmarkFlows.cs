using System.Globalization;
using System.Net;
using NetObserv.Flows;

namespace NetObserv.Benchmarks.Copy;

/// <summary>
/// Realistic synthetic cluster traffic: 12 namespaces of 8 workloads (3 pods each) on 6 nodes in 3
/// zones; each workload talks to 3 fixed peers, a fifth of flows leave the cluster; agent sampling 50.
/// Strings are shared between records as an enricher's cache would share them.
/// </summary>
internal static class BenchmarkFlows
{
    private sealed record Pod(IPAddress Ip, KubernetesMetadata Meta, int Workload);

    public static List<FlowRecord> Generate(int count, long endMs, int seed = 1)
    {
        var random = new Random(seed);
        var nodes = Enumerable.Range(0, 6).Select(n => (
            Ip: new IPAddress([192, 168, 0, (byte)(10 + n)]),
            Name: "worker-" + n.ToString(CultureInfo.InvariantCulture),
            Zone: "zone-" + (n % 3).ToString(CultureInfo.InvariantCulture))).ToArray();
        var ownerTypes = new[] { "Deployment", "StatefulSet", "DaemonSet" };
        var pods = new List<Pod>();
        for (var ns = 0; ns < 12; ns++)
        {
            var nsName = "team-" + ns.ToString(CultureInfo.InvariantCulture);
            for (var w = 0; w < 8; w++)
            {
                var owner = nsName + "-svc-" + w.ToString(CultureInfo.InvariantCulture);
                var ownerType = ownerTypes[w % 3];
                for (var p = 0; p < 3; p++)
                {
                    var node = nodes[random.Next(nodes.Length)];
                    pods.Add(new Pod(new IPAddress([10, 128, (byte)pods.Count, (byte)(p + 1)]), new KubernetesMetadata
                    {
                        Name = owner + "-" + random.Next(0x10000, 0xFFFFF).ToString("x", CultureInfo.InvariantCulture),
                        Type = "Pod",
                        Namespace = nsName,
                        OwnerName = owner,
                        OwnerType = ownerType,
                        HostIP = node.Ip,
                        HostName = node.Name,
                        Zone = node.Zone,
                    }, (ns * 8) + w));
                }
            }
        }

        var workloads = 12 * 8;
        var peers = Enumerable.Range(0, workloads).Select(_ => new[]
        {
            random.Next(workloads), random.Next(workloads), random.Next(workloads),
        }).ToArray();
        var external = Enumerable.Range(0, 50).Select(i => new IPAddress([34, 120, (byte)i, (byte)random.Next(1, 255)])).ToArray();
        var empty = new KubernetesMetadata();
        string[] podInterfaces = ["eth0"];
        string[] nodeInterfaces = ["br-ex", "genev_sys_6081"];
        int[] oneDirection = [0];
        int[] twoDirections = [0, 1];

        var records = new List<FlowRecord>(count);
        var startMs = endMs - 3_600_000;
        for (var i = 0; i < count; i++)
        {
            var src = pods[random.Next(pods.Count)];
            var leaves = random.Next(5) == 0;
            Pod? dst = null;
            if (!leaves)
            {
                var peer = peers[src.Workload][random.Next(3)];
                dst = pods[(peer * 3) + random.Next(3)];
            }

            var proto = random.Next(100) switch { < 80 => 6, < 99 => 17, _ => 1 };
            var timeEnd = startMs + (long)((double)i / count * 3_600_000) + random.Next(1000);
            var packets = (long)Math.Max(1, Math.Exp(random.NextDouble() * 6));
            var dstPort = proto == 17 && random.Next(4) == 0 ? 53 : random.Next(3) switch { 0 => 443, 1 => 8080, _ => 5432 };
            var dns = dstPort == 53;
            var node = src.Meta.HostIP!;
            records.Add(new FlowRecord
            {
                TimeFlowEndMs = timeEnd,
                TimeFlowStartMs = timeEnd - random.Next(0, 5_000),
                TimeReceived = (timeEnd / 1000) + 1,
                SrcAddr = src.Ip,
                DstAddr = dst?.Ip ?? external[random.Next(external.Length)],
                // A pod has one MAC address (a random one per flow would make every flow a new context).
                SrcMac = 0x0A5800000000UL | (uint)(src.Ip.GetAddressBytes()[2] << 8 | src.Ip.GetAddressBytes()[3]),
                DstMac = 0x0A5800000001UL,
                SrcPort = random.Next(32768, 61000),
                DstPort = proto == 1 ? null : dstPort,
                Proto = proto,
                Etype = 2048,
                Flags = proto == 6 ? 0x10 | (random.Next(4) == 0 ? 0x2 : 0) : null,
                Dscp = 0,
                IcmpType = proto == 1 ? 8 : null,
                IcmpCode = proto == 1 ? 0 : null,
                Bytes = packets * random.Next(60, 1500),
                Packets = packets,
                Sampling = 50,
                FlowDirection = random.Next(2),
                Interfaces = leaves ? nodeInterfaces : podInterfaces,
                IfDirections = leaves ? twoDirections : oneDirection,
                Duplicate = false,
                AgentIP = node,
                DnsId = dns ? random.Next(65536) : null,
                DnsFlags = dns ? 0x8180 : null,
                DnsLatencyMs = dns ? random.Next(1, 20) : null,
                DnsErrno = dns ? 0 : null,
                TimeFlowRttNs = proto == 6 ? random.Next(50_000, 5_000_000) : null,
                Src = src.Meta,
                Dst = dst?.Meta ?? empty,
                K8SFlowLayer = "app",
                K8SClusterName = "east",
                RecordType = "flowLog",
                HashId = random.NextInt64().ToString("x16", CultureInfo.InvariantCulture),
            });
        }

        return records;
    }
}
