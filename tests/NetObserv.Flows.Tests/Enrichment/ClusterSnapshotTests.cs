using System.Net;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Flows.Tests.Enrichment;

public sealed class ClusterSnapshotTests
{
    private static readonly KubernetesNode s_node1 = new("node-1", ["10.0.0.1", "node-1.example", "203.0.113.1"], "zone-a");
    private static readonly KubernetesNode s_node2 = new("node-2", ["10.0.0.2"], "zone-b");

    [Fact]
    public void BuildIndex_HostNetworkPod_ResolvesToNode()
    {
        var hostNetwork = new KubernetesPod("openshift-ovn", "ovnkube-node-x", ["10.0.0.1"], "10.0.0.1", "node-1",
            "DaemonSet", "ovnkube-node");
        var snapshot = new ClusterSnapshot { Nodes = [s_node1], Pods = [hostNetwork] };

        var entry = snapshot.BuildIndex().Lookup(IPAddress.Parse("10.0.0.1"));

        Assert.NotNull(entry);
        Assert.Equal(EnrichmentEntry.Node, entry.Type);
        Assert.Equal("node-1", entry.Name);
        Assert.Equal("node-1", entry.OwnerName);
        Assert.Equal(EnrichmentEntry.Node, entry.OwnerType);
        Assert.Equal("node-1", entry.HostName);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), entry.HostIP);
        Assert.Equal("zone-a", entry.Zone);
        Assert.Null(entry.Namespace);
    }

    [Fact]
    public void BuildIndex_Node_IndexedByEveryIpAddressWithFirstAsHostIP()
    {
        var snapshot = new ClusterSnapshot { Nodes = [s_node1] };

        var index = snapshot.BuildIndex();
        var external = index.Lookup(IPAddress.Parse("203.0.113.1"));

        Assert.NotNull(external);
        Assert.Equal("node-1", external.Name);
        Assert.Equal(IPAddress.Parse("10.0.0.1"), external.HostIP);
        Assert.Equal(2, index.AddressCount);
    }

    [Fact]
    public void BuildIndex_PodOfReplicaSet_OwnedByDeployment()
    {
        var pod = new KubernetesPod("shop", "frontend-7d9c-abcde", ["10.128.0.5", "fd00::5"], "10.0.0.2", "node-2",
            "ReplicaSet", "frontend-7d9c");
        var snapshot = new ClusterSnapshot
        {
            Nodes = [s_node2],
            Pods = [pod],
            ReplicaSets = new Dictionary<string, KubernetesOwned>
            {
                ["shop/frontend-7d9c"] = new("shop", "frontend-7d9c", "Deployment", "frontend"),
            },
        };

        var index = snapshot.BuildIndex();
        var v4 = index.Lookup(IPAddress.Parse("10.128.0.5"));
        var v6 = index.Lookup(IPAddress.Parse("fd00::5"));

        Assert.NotNull(v4);
        Assert.Same(v4, v6);
        Assert.Equal("Deployment", v4.OwnerType);
        Assert.Equal("frontend", v4.OwnerName);
        Assert.Equal("shop", v4.Namespace);
        Assert.Equal("node-2", v4.HostName);
        Assert.Equal(IPAddress.Parse("10.0.0.2"), v4.HostIP);
        Assert.Equal("zone-b", v4.Zone);
    }

    [Fact]
    public void BuildIndex_ReplicaSetUnknown_OwnerStaysReplicaSet()
    {
        var pod = new KubernetesPod("shop", "p", ["10.128.0.5"], "10.0.0.2", "node-2", "ReplicaSet", "rs-1");
        var entry = new ClusterSnapshot { Pods = [pod] }.BuildIndex().Lookup(IPAddress.Parse("10.128.0.5"));

        Assert.Equal("ReplicaSet", entry?.OwnerType);
        Assert.Equal("rs-1", entry?.OwnerName);
    }

    [Fact]
    public void BuildIndex_PodOfJob_OwnedByCronJob()
    {
        var pod = new KubernetesPod("batch", "report-28999-x", ["10.128.1.9"], "10.0.0.2", "node-2", "Job",
            "report-28999");
        var snapshot = new ClusterSnapshot
        {
            Pods = [pod],
            Jobs = new Dictionary<string, KubernetesOwned>
            {
                ["batch/report-28999"] = new("batch", "report-28999", "CronJob", "report"),
            },
        };

        var entry = snapshot.BuildIndex().Lookup(IPAddress.Parse("10.128.1.9"));

        Assert.Equal("CronJob", entry?.OwnerType);
        Assert.Equal("report", entry?.OwnerName);
    }

    [Fact]
    public void BuildIndex_BarePod_OwnsItself()
    {
        var pod = new KubernetesPod("dev", "debug", ["10.128.2.2"], "10.0.0.1", "node-1", null, null);

        var entry = new ClusterSnapshot { Pods = [pod] }.BuildIndex().Lookup(IPAddress.Parse("10.128.2.2"));

        Assert.Equal(EnrichmentEntry.Pod, entry?.OwnerType);
        Assert.Equal("debug", entry?.OwnerName);
    }

    [Fact]
    public void BuildIndex_PodWithoutNodeName_HostNameFromNodeAddress()
    {
        var pod = new KubernetesPod("dev", "p", ["10.128.2.2"], "10.0.0.2", null, null, null);
        var snapshot = new ClusterSnapshot { Nodes = [s_node1, s_node2], Pods = [pod] };

        var entry = snapshot.BuildIndex().Lookup(IPAddress.Parse("10.128.2.2"));

        Assert.Equal("node-2", entry?.HostName);
        Assert.Equal("zone-b", entry?.Zone);
    }

    [Fact]
    public void BuildIndex_PodAndServiceAndNodeOrder_PodThenNodeThenService()
    {
        var pod = new KubernetesPod("shop", "p", ["10.1.1.1"], "10.0.0.1", "node-1", null, null);
        var service = new KubernetesService("shop", "s", ["10.1.1.1", "10.0.0.2", "172.30.0.9", "None"]);
        var snapshot = new ClusterSnapshot { Nodes = [s_node2], Pods = [pod], Services = [service] };

        var index = snapshot.BuildIndex();

        Assert.Equal(EnrichmentEntry.Pod, index.Lookup(IPAddress.Parse("10.1.1.1"))?.Type);
        Assert.Equal(EnrichmentEntry.Node, index.Lookup(IPAddress.Parse("10.0.0.2"))?.Type);
        var svc = index.Lookup(IPAddress.Parse("172.30.0.9"));
        Assert.Equal(EnrichmentEntry.Service, svc?.Type);
        Assert.Equal("s", svc?.OwnerName);
        Assert.Equal(EnrichmentEntry.Service, svc?.OwnerType);
        Assert.Null(svc?.HostIP);
    }

    [Fact]
    public void BuildIndex_FinishedAndRunningPodShareIp_RunningWins()
    {
        var finished = new KubernetesPod("batch", "old", ["10.128.3.3"], "10.0.0.1", "node-1", null, null, Finished: true);
        var running = new KubernetesPod("shop", "new", ["10.128.3.3"], "10.0.0.1", "node-1", null, null);
        var snapshot = new ClusterSnapshot { Pods = [finished, running] };

        Assert.Equal("new", snapshot.BuildIndex().Lookup(IPAddress.Parse("10.128.3.3"))?.Name);
    }
}
