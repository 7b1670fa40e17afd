using System.Net;

namespace NetObserv.Server.Loadgen;

/// <summary>
/// A made-up, dual-stack Kubernetes cluster: nodes in zones, namespaces (application and
/// infrastructure), workloads with pods and a Service each, and a few addresses outside the cluster.
/// Built deterministically from a seed. It answers two needs: every address with the metadata
/// enrichment would find for it (<see cref="Endpoints"/>), and realistic traffic between them
/// (<see cref="NextFlow"/>: pod to service, pod to pod, DNS, egress, ingress, node to node, ICMP,
/// over TCP, UDP and ICMP, IPv4 and IPv6).
/// </summary>
internal sealed class SyntheticCluster
{
    private const int ProtoIcmp = 1;
    private const int ProtoTcp = 6;
    private const int ProtoUdp = 17;
    private const int ProtoIcmpV6 = 58;

    private static readonly string[] s_zones = ["zone-a", "zone-b", "zone-c"];
    private static readonly string[] s_dnsNames =
    [
        "cart.shop.svc.cluster.local", "api.payments.svc.cluster.local", "registry.example.com",
        "kafka-0.kafka.analytics.svc.cluster.local", "api.example.com", "missing.example.org",
    ];

    private readonly Pod[] _appPods;
    private readonly Pod[] _dnsPods;
    private readonly Workload[] _servedWorkloads;

    private SyntheticCluster(Node[] nodes, Namespace[] namespaces, IPAddress[] external)
    {
        Nodes = nodes;
        Namespaces = namespaces;
        External = external;
        var workloads = namespaces.SelectMany(n => n.Workloads).ToArray();
        Workloads = workloads;
        Pods = workloads.SelectMany(w => w.Pods).ToArray();
        _appPods = Pods.Where(p => !p.HostNetwork).ToArray();
        _dnsPods = Pods.Where(p => p.Workload.Name == "coredns").ToArray();
        _servedWorkloads = workloads.Where(w => w.ServiceIPv4 is not null).ToArray();
    }

    /// <summary>A node: name, zone and its two addresses.</summary>
    internal sealed record Node(string Name, string Zone, IPAddress IPv4, IPAddress IPv6, ulong Mac);

    /// <summary>A namespace; <paramref name="Infra"/> when it holds platform components (<c>kube-</c>, <c>openshift-</c>...).</summary>
    internal sealed record Namespace(string Name, bool Infra, IReadOnlyList<Workload> Workloads);

    /// <summary>
    /// A workload (Deployment, StatefulSet, DaemonSet, CronJob) with its pods; <see cref="ControllerKind"/>
    /// is the pods' direct owner (ReplicaSet, StatefulSet, DaemonSet, Job), <see cref="Kind"/> what it resolves to.
    /// </summary>
    internal sealed class Workload
    {
        public required string Namespace { get; init; }
        public required string Name { get; init; }
        public required string Kind { get; init; }
        public required string ControllerKind { get; init; }
        public required string ControllerName { get; init; }
        public required int Port { get; init; }
        public required int Protocol { get; init; }
        public IPAddress? ServiceIPv4 { get; init; }
        public IPAddress? ServiceIPv6 { get; init; }
        public List<Pod> Pods { get; } = [];
    }

    /// <summary>A pod on a node; host-network pods use their node's addresses.</summary>
    internal sealed record Pod(string Name, Workload Workload, Node Node, IPAddress IPv4, IPAddress IPv6, ulong Mac,
        bool HostNetwork, string Interface);

    /// <summary>What enrichment knows of one address (the <c>K8S_*</c> fields).</summary>
    internal sealed record Endpoint(IPAddress Address, string Kind, string? Namespace, string Name, string OwnerKind,
        string OwnerName, string? HostName, IPAddress? HostIP, string? Zone);

    /// <summary>One synthetic flow as an agent on <see cref="AgentIP"/> would report it.</summary>
    internal readonly record struct Flow(
        IPAddress Src, IPAddress Dst, int SrcPort, int DstPort, int Proto, int IcmpType, int IcmpCode,
        ulong SrcMac, ulong DstMac, IPAddress AgentIP, int Direction, string Interface, long StartMs, long EndMs,
        long Bytes, long Packets, int Flags, int Dscp, long RttNs, int DnsId, int DnsFlags, long DnsLatencyMs,
        string? DnsName, long DropBytes, long DropPackets, int DropState, int DropCause)
    {
        public bool IsIPv6 => Src.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6;
    }

    public IReadOnlyList<Node> Nodes { get; }
    public IReadOnlyList<Namespace> Namespaces { get; }
    public IReadOnlyList<Workload> Workloads { get; }
    public IReadOnlyList<Pod> Pods { get; }

    /// <summary>Addresses outside the cluster (the internet, IPv4 and IPv6).</summary>
    public IReadOnlyList<IPAddress> External { get; }

    /// <summary>
    /// Builds a cluster of <paramref name="nodeCount"/> nodes spread over three zones; pods per
    /// workload grow with <paramref name="scale"/>. The same arguments give the same cluster.
    /// </summary>
    public static SyntheticCluster Create(int seed = 1, int nodeCount = 6, int scale = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nodeCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        var random = new Random(seed);
        var nodes = new Node[nodeCount];
        for (var i = 0; i < nodeCount; i++)
        {
            nodes[i] = new Node($"worker-{i}", s_zones[i % s_zones.Length], V4(10, 0, 0, 10 + i),
                V6(0xfd00, 0, 0, 0x10 + i), Mac(random));
        }

        var builder = new Builder(random, nodes);
        var namespaces = new[]
        {
            builder.Namespace("shop", false,
                ("frontend", "Deployment", 8080, ProtoTcp, 3),
                ("cart", "Deployment", 8080, ProtoTcp, 2),
                ("checkout", "Deployment", 8443, ProtoTcp, 2),
                ("redis", "StatefulSet", 6379, ProtoTcp, 1)),
            builder.Namespace("payments", false,
                ("api", "Deployment", 9090, ProtoTcp, 2),
                ("postgres", "StatefulSet", 5432, ProtoTcp, 1),
                ("settlement", "CronJob", 0, ProtoTcp, 1)),
            builder.Namespace("analytics", false,
                ("ingest", "Deployment", 4317, ProtoTcp, 2),
                ("kafka", "StatefulSet", 9092, ProtoTcp, 3),
                ("statsd", "Deployment", 8125, ProtoUdp, 1)),
            builder.Namespace("kube-system", true,
                ("coredns", "Deployment", 53, ProtoUdp, 2),
                ("kube-proxy", "DaemonSet", 0, ProtoTcp, 0)),
            builder.Namespace("openshift-monitoring", true,
                ("prometheus", "StatefulSet", 9090, ProtoTcp, 2),
                ("node-exporter", "DaemonSet", 9100, ProtoTcp, 0)),
        };
        foreach (var ns in namespaces)
        {
            foreach (var workload in ns.Workloads.Where(w => w.Pods.Count > 0 && w.Kind != "DaemonSet"))
            {
                for (var extra = 1; extra < scale; extra++)
                {
                    builder.AddPods(workload, workload.Pods.Count / extra);
                }
            }
        }

        IPAddress[] external =
        [
            V4(203, 0, 113, 10), V4(203, 0, 113, 77), V4(198, 51, 100, 5), V4(198, 51, 100, 200),
            V6(0x2001, 0xdb8, 0, 0x10), V6(0x2001, 0xdb8, 0xbeef, 0x1),
        ];
        return new SyntheticCluster(nodes, namespaces, external);
    }

    /// <summary>Every in-cluster address with its metadata: pods (not host-network ones), services, nodes.</summary>
    public IEnumerable<Endpoint> Endpoints()
    {
        foreach (var pod in Pods.Where(p => !p.HostNetwork))
        {
            var w = pod.Workload;
            foreach (var address in new[] { pod.IPv4, pod.IPv6 })
            {
                yield return new Endpoint(address, "Pod", w.Namespace, pod.Name, w.Kind, w.Name, pod.Node.Name,
                    pod.Node.IPv4, pod.Node.Zone);
            }
        }

        foreach (var w in _servedWorkloads)
        {
            foreach (var address in new[] { w.ServiceIPv4!, w.ServiceIPv6! })
            {
                yield return new Endpoint(address, "Service", w.Namespace, w.Name, "Service", w.Name, null, null, null);
            }
        }

        foreach (var node in Nodes)
        {
            foreach (var address in new[] { node.IPv4, node.IPv6 })
            {
                yield return new Endpoint(address, "Node", null, node.Name, "Node", node.Name, node.Name, node.IPv4,
                    node.Zone);
            }
        }
    }

    /// <summary>
    /// A random flow ending at most a few seconds before <paramref name="nowMs"/> (epoch milliseconds).
    /// About a quarter of in-cluster flows are IPv6.
    /// </summary>
    public Flow NextFlow(Random random, long nowMs)
    {
        ArgumentNullException.ThrowIfNull(random);
        var v6 = random.Next(4) == 0;
        var end = nowMs - random.Next(5_000);
        var start = end - random.Next(15_000);
        var pick = random.Next(100);
        var src = _appPods[random.Next(_appPods.Length)];
        switch (pick)
        {
            case < 35:
                {
                    // Pod to a Service of its own or another namespace, over the service's protocol.
                    var target = _servedWorkloads[random.Next(_servedWorkloads.Length)];
                    var dst = target.Pods[random.Next(target.Pods.Count)];
                    var dstAddress = random.Next(3) == 0 ? Pick(target.ServiceIPv4!, target.ServiceIPv6!, v6) : PodAddress(dst, v6);
                    return Transport(random, src, PodAddress(src, v6), dstAddress, dst.Mac, src.Node, egress: true,
                        target.Protocol, Ephemeral(random), target.Port, start, end);
                }

            case < 50:
                {
                    // DNS lookup to CoreDNS.
                    var dns = _dnsPods[random.Next(_dnsPods.Length)];
                    var flow = Transport(random, src, PodAddress(src, v6), PodAddress(dns, v6), dns.Mac, src.Node,
                        egress: true, ProtoUdp, Ephemeral(random), 53, start, end);
                    var rcode = random.Next(20) == 0 ? 3 : 0;
                    return flow with
                    {
                        DnsId = random.Next(1, 65536),
                        DnsFlags = 0x8180 | rcode,
                        DnsLatencyMs = random.Next(1, 40),
                        DnsName = s_dnsNames[random.Next(s_dnsNames.Length)],
                        Bytes = random.Next(80, 600),
                        Packets = 2,
                    };
                }

            case < 62:
                {
                    // Egress to the internet (IPv4 or IPv6).
                    var dst = External[random.Next(External.Count)];
                    return Transport(random, src, PodAddress(src, dst.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6),
                        dst, src.Node.Mac, src.Node, egress: true, ProtoTcp, Ephemeral(random), 443, start, end);
                }

            case < 70:
                {
                    // Ingress from the internet to a frontend pod.
                    var from = External[random.Next(4)];
                    var frontend = Workloads[0].Pods[random.Next(Workloads[0].Pods.Count)];
                    return Transport(random, frontend, from, frontend.IPv4, frontend.Mac, frontend.Node, egress: false,
                        ProtoTcp, Ephemeral(random), Workloads[0].Port, start, end) with
                    { SrcMac = frontend.Node.Mac };
                }

            case < 78:
                {
                    // Node to node (kubelet, API server), node addresses.
                    var a = Nodes[random.Next(Nodes.Count)];
                    var b = Nodes[random.Next(Nodes.Count)];
                    var port = random.Next(2) == 0 ? 10250 : 6443;
                    return new Flow(Pick(a.IPv4, a.IPv6, v6), Pick(b.IPv4, b.IPv6, v6), Ephemeral(random), port, ProtoTcp,
                        0, 0, a.Mac, b.Mac, a.IPv4, 1, "br-ex", start, end, random.Next(200, 200_000), random.Next(2, 200),
                        0x10 | 0x08, 0, random.Next(50_000, 2_000_000), 0, 0, 0, null, 0, 0, 0, 0);
                }

            case < 86:
                {
                    // ICMP echo between pods.
                    var dst = _appPods[random.Next(_appPods.Length)];
                    return new Flow(PodAddress(src, v6), PodAddress(dst, v6), 0, 0, v6 ? ProtoIcmpV6 : ProtoIcmp,
                        v6 ? 128 : 8, 0, src.Mac, dst.Mac, src.Node.IPv4, 1, Interface(src), start, end, 98 * 4, 4, 0, 0, 0,
                        0, 0, 0, null, 0, 0, 0, 0);
                }

            default:
                {
                    // Pod to pod directly, TCP or UDP.
                    var dst = _appPods[random.Next(_appPods.Length)];
                    var proto = random.Next(3) == 0 ? ProtoUdp : ProtoTcp;
                    return Transport(random, src, PodAddress(src, v6), PodAddress(dst, v6), dst.Mac, src.Node, egress: true,
                        proto, Ephemeral(random), dst.Workload.Port == 0 ? 8080 : dst.Workload.Port, start, end);
                }
        }
    }

    private static Flow Transport(Random random, Pod reporter, IPAddress src, IPAddress dst, ulong dstMac, Node agent,
        bool egress, int proto, int srcPort, int dstPort, long start, long end)
    {
        var packets = random.Next(1, 2_000);
        var bytes = (long)packets * random.Next(60, 1_500);
        var tcp = proto == ProtoTcp;
        var flags = tcp ? 0x10 | (random.Next(4) == 0 ? 0x02 | 0x100 : 0) | (random.Next(8) == 0 ? 0x01 | 0x200 : 0) : 0;
        var dropped = random.Next(100) == 0;
        return new Flow(src, dst, srcPort, dstPort, proto, 0, 0, reporter.Mac, dstMac, agent.IPv4, egress ? 1 : 0,
            Interface(reporter), start, end, bytes, packets, flags, random.Next(10) == 0 ? 46 : 0,
            tcp ? random.Next(20_000, 5_000_000) : 0, 0, 0, 0, null,
            dropped ? random.Next(60, 1_500) : 0, dropped ? 1 : 0, dropped && tcp ? 1 : 0, dropped ? 3 + random.Next(6) : 0);
    }

    private static string Interface(Pod pod) => pod.Interface;

    private static IPAddress PodAddress(Pod pod, bool v6) => v6 ? pod.IPv6 : pod.IPv4;

    private static IPAddress Pick(IPAddress v4, IPAddress v6, bool useV6) => useV6 ? v6 : v4;

    private static int Ephemeral(Random random) => random.Next(32768, 61000);

    private static IPAddress V4(int a, int b, int c, int d) => new([(byte)a, (byte)b, (byte)c, (byte)d]);

    private static IPAddress V6(int a, int b, int c, int d)
    {
        var bytes = new byte[16];
        bytes[0] = (byte)(a >> 8);
        bytes[1] = (byte)a;
        bytes[2] = (byte)(b >> 8);
        bytes[3] = (byte)b;
        bytes[4] = (byte)(c >> 8);
        bytes[5] = (byte)c;
        bytes[14] = (byte)(d >> 8);
        bytes[15] = (byte)d;
        return new IPAddress(bytes);
    }

    private static ulong Mac(Random random) => 0x0A_58_00_00_00_00UL | (ulong)random.NextInt64(0, 1L << 32);

    /// <summary>Allocates names and addresses while the cluster is built.</summary>
    private sealed class Builder(Random random, Node[] nodes)
    {
        private int _nextPod;
        private int _nextService;

        public Namespace Namespace(string name, bool infra,
            params (string Name, string Kind, int Port, int Protocol, int Pods)[] workloads)
        {
            var list = new List<Workload>();
            foreach (var (workloadName, kind, port, protocol, pods) in workloads)
            {
                var hash = random.Next(0x1000000, 0x7FFFFFFF).ToString("x", System.Globalization.CultureInfo.InvariantCulture)[..7];
                var (controllerKind, controllerName) = kind switch
                {
                    "Deployment" => ("ReplicaSet", $"{workloadName}-{hash}"),
                    "CronJob" => ("Job", $"{workloadName}-{29_000_000 + random.Next(1_000_000)}"),
                    _ => (kind, workloadName),
                };
                var served = port != 0 && kind != "CronJob";
                var workload = new Workload
                {
                    Namespace = name,
                    Name = workloadName,
                    Kind = kind,
                    ControllerKind = controllerKind,
                    ControllerName = controllerName,
                    Port = port,
                    Protocol = protocol,
                    ServiceIPv4 = served ? V4(172, 30, _nextService / 250, 1 + (_nextService % 250)) : null,
                    ServiceIPv6 = served ? V6(0xfd02, 0, 0, 1 + _nextService) : null,
                };
                if (served)
                {
                    _nextService++;
                }

                if (kind == "DaemonSet")
                {
                    foreach (var node in nodes)
                    {
                        workload.Pods.Add(new Pod($"{workloadName}-{Suffix()}", workload, node, node.IPv4, node.IPv6,
                            node.Mac, HostNetwork: true, Interface: "br-ex"));
                    }
                }
                else
                {
                    AddPods(workload, pods);
                }

                list.Add(workload);
            }

            return new Namespace(name, infra, list);
        }

        public void AddPods(Workload workload, int count)
        {
            for (var i = 0; i < count; i++)
            {
                var index = _nextPod++;
                var node = nodes[random.Next(nodes.Length)];
                var podName = workload.Kind == "StatefulSet"
                    ? $"{workload.Name}-{workload.Pods.Count}"
                    : $"{workload.ControllerName}-{Suffix()}";
                var mac = Mac(random);
                workload.Pods.Add(new Pod(podName, workload, node, V4(10, 128, index / 250, 2 + (index % 250)),
                    V6(0xfd01, 0, index / 250, 2 + (index % 250)), mac, HostNetwork: false,
                    Interface: "veth" + (mac & 0xFFFFFFFF).ToString("x8", System.Globalization.CultureInfo.InvariantCulture)));
            }
        }

        private string Suffix()
        {
            const string Alphabet = "bcdfghjklmnpqrstvwxz2456789";
            Span<char> chars = stackalloc char[5];
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = Alphabet[random.Next(Alphabet.Length)];
            }

            return new string(chars);
        }
    }
}
