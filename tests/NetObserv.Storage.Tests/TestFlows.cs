using System.Net;
using NetObserv.Flows;

namespace NetObserv.Storage.Tests;

/// <summary>Deterministic flow records with every field exercised (absent fields included).</summary>
internal static class TestFlows
{
    private static readonly string?[] s_namespaces = [null, "default", "kube-system", "shop", "payments", "monitoring"];
    private static readonly string[] s_owners = ["frontend", "api", "db", "cache", "worker"];
    private static readonly string[] s_ownerTypes = ["Deployment", "StatefulSet", "DaemonSet"];
    private static readonly string?[] s_layers = [null, "app", "infra"];
    private static readonly string?[] s_clusters = [null, "east", "west"];
    private static readonly string[] s_tenants = ["default", "team-a"];

    /// <summary>2026-11-20T22:30:00Z: a batch spread over three hours crosses midnight.</summary>
    public static readonly long BaseMs = new DateTimeOffset(2026, 11, 20, 22, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();

    /// <summary>
    /// <paramref name="count"/> records whose <c>time_end</c> spreads over <paramref name="spanMinutes"/>
    /// minutes from <paramref name="baseMs"/>; <c>HashId</c> is <c>h{index}</c> (unique).
    /// </summary>
    public static List<FlowRecord> Generate(int count, int seed, long? baseMs = null, int spanMinutes = 180)
    {
        var random = new Random(seed);
        var start = baseMs ?? BaseMs;
        var list = new List<FlowRecord>(count);
        for (var i = 0; i < count; i++)
        {
            var end = start + random.NextInt64(spanMinutes * 60_000L);
            var v6 = random.Next(10) == 0;
            var r = new FlowRecord
            {
                TimeFlowEndMs = end,
                TimeFlowStartMs = end - random.Next(0, 30_000),
                TimeReceived = (end / 1000) + random.Next(0, 3),
                SrcAddr = v6 ? RandomV6(random) : RandomV4(random),
                DstAddr = Maybe(random, v6 ? RandomV6(random) : RandomV4(random)),
                SrcMac = Maybe(random, (ulong?)(random.NextInt64(1L << 48))),
                DstMac = Maybe(random, (ulong?)0x112233445566UL),
                SrcPort = random.Next(1, 65536),
                DstPort = Maybe(random, (int?)random.Next(1, 1024)),
                Proto = random.Next(3) switch { 0 => 6, 1 => 17, _ => 1 },
                Etype = v6 ? 34525 : 2048,
                Flags = Maybe(random, (int?)random.Next(0, 2048)),
                Dscp = Maybe(random, (int?)random.Next(0, 64)),
                IcmpType = Maybe(random, (int?)random.Next(0, 16)),
                IcmpCode = Maybe(random, (int?)random.Next(0, 16)),
                Bytes = random.NextInt64(40, 10_000_000),
                Packets = random.NextInt64(1, 10_000),
                Sampling = random.Next(4) switch { 0 => null, 1 => 0, 2 => 1, _ => 50 },
                FlowDirection = random.Next(4) switch { 0 => null, var d => d - 1 },
                Interfaces = random.Next(3) == 0 ? null : ["eth0", "genev_sys_6081"],
                IfDirections = random.Next(3) == 0 ? null : [0, 1],
                Duplicate = Maybe(random, (bool?)(random.Next(2) == 0)),
                AgentIP = RandomV4(random),
                DnsId = Maybe(random, (int?)random.Next(0, 65536)),
                DnsFlags = Maybe(random, (int?)random.Next(0, 65536)),
                DnsLatencyMs = Maybe(random, (long?)random.Next(0, 500)),
                DnsErrno = Maybe(random, (int?)random.Next(0, 3)),
                DnsName = Maybe(random, "svc-" + random.Next(100) + ".cluster.local"),
                TimeFlowRttNs = Maybe(random, (long?)random.NextInt64(1000, 100_000_000)),
                PktDropBytes = Maybe(random, (long?)random.Next(0, 10_000)),
                PktDropPackets = Maybe(random, (long?)random.Next(0, 100)),
                PktDropLatestState = Maybe(random, "TCP_ESTABLISHED"),
                PktDropLatestDropCause = Maybe(random, "SKB_DROP_REASON_NO_SOCKET"),
                Src = Kubernetes(random),
                Dst = Kubernetes(random),
                K8SFlowLayer = Pick(random, s_layers),
                K8SClusterName = Pick(random, s_clusters),
                RecordType = Maybe(random, "flowLog"),
                HashId = "h" + i.ToString(System.Globalization.CultureInfo.InvariantCulture),
                Tenant = Pick(random, s_tenants),
            };
            list.Add(r);
        }

        return list;
    }

    /// <summary>
    /// Makes <paramref name="record"/> a row the database refuses: its extra fields hold a NUL character,
    /// which <c>jsonb</c> cannot store (SQLSTATE 22P05). <paramref name="seed"/> keeps poison rows apart.
    /// </summary>
    public static void Poison(FlowRecord record, int seed) =>
        record.ExtraFields = "{\"poison\":\"\\u0000" + seed.ToString(System.Globalization.CultureInfo.InvariantCulture) + "\"}";

    private static KubernetesMetadata Kubernetes(Random random)
    {
        var ns = Pick(random, s_namespaces);
        if (ns is null)
        {
            return new KubernetesMetadata();
        }

        var owner = Pick(random, s_owners);
        return new KubernetesMetadata
        {
            Name = owner + "-" + random.Next(5),
            Type = "Pod",
            Namespace = ns,
            OwnerName = owner,
            OwnerType = Pick(random, s_ownerTypes),
            HostIP = Maybe(random, RandomV4(random)),
            HostName = "node-" + random.Next(3),
            Zone = Maybe(random, "zone-" + random.Next(2)),
        };
    }

    private static T Pick<T>(Random random, T[] values) => values[random.Next(values.Length)];

    private static T? Maybe<T>(Random random, T value) => random.Next(5) == 0 ? default : value;

    private static IPAddress RandomV4(Random random) =>
        new([10, (byte)random.Next(256), (byte)random.Next(256), (byte)random.Next(1, 255)]);

    private static IPAddress RandomV6(Random random)
    {
        var bytes = new byte[16];
        random.NextBytes(bytes);
        bytes[0] = 0xfd;
        return new IPAddress(bytes);
    }
}
