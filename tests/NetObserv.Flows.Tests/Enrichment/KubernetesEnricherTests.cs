using System.Net;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Flows.Tests.Enrichment;

public sealed class KubernetesEnricherTests
{
    private static readonly IPAddress s_node1 = IPAddress.Parse("10.0.0.1");
    private static readonly IPAddress s_node2 = IPAddress.Parse("10.0.0.2");

    private static readonly EnrichmentEntry s_frontend = new(EnrichmentEntry.Pod, "frontend-abc", "shop", "Deployment",
        "frontend", s_node1, "node-1", "zone-a");
    private static readonly EnrichmentEntry s_backend = new(EnrichmentEntry.Pod, "backend-xyz", "shop", "Deployment",
        "backend", s_node2, "node-2", "zone-b");
    private static readonly EnrichmentEntry s_dns = new(EnrichmentEntry.Pod, "coredns-1", "kube-system", "Deployment",
        "coredns", s_node2, "node-2", "zone-b");
    private static readonly EnrichmentEntry s_api = new(EnrichmentEntry.Service, "kubernetes", "default",
        EnrichmentEntry.Service, "kubernetes");
    private static readonly EnrichmentEntry s_nodeEntry1 = new(EnrichmentEntry.Node, "node-1", null, EnrichmentEntry.Node,
        "node-1", s_node1, "node-1", "zone-a");

    private static KubernetesEnricher Enricher(EnrichmentOptions? options = null,
        params (string Address, EnrichmentEntry Entry)[] entries)
    {
        var builder = new EnrichmentIndexBuilder();
        foreach (var (address, entry) in entries)
        {
            builder.Add(IPAddress.Parse(address), entry);
        }

        var enricher = new KubernetesEnricher(options ?? new EnrichmentOptions());
        enricher.Publish(EnrichmentSource.Kubernetes, builder.Build());
        return enricher;
    }

    private static FlowRecord Flow(string src, string dst, IPAddress? agent = null, int? direction = null) => new()
    {
        SrcAddr = IPAddress.Parse(src),
        DstAddr = IPAddress.Parse(dst),
        AgentIP = agent,
        FlowDirection = direction,
    };

    [Fact]
    public void Enrich_BothSidesKnown_WritesEveryField()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend), ("10.129.0.7", s_backend));
        var record = Flow("10.128.0.5", "10.129.0.7");

        enricher.Enrich(record);

        Assert.Equal(s_frontend.Name, record.Src.Name);
        Assert.Equal(EnrichmentEntry.Pod, record.Src.Type);
        Assert.Equal(s_frontend.Namespace, record.Src.Namespace);
        Assert.Equal(s_frontend.OwnerType, record.Src.OwnerType);
        Assert.Equal(s_frontend.OwnerName, record.Src.OwnerName);
        Assert.Equal(s_node1, record.Src.HostIP);
        Assert.Equal("node-1", record.Src.HostName);
        Assert.Equal("zone-a", record.Src.Zone);
        Assert.Equal(s_backend.Name, record.Dst.Name);
        Assert.Equal("node-2", record.Dst.HostName);
        Assert.Equal("zone-b", record.Dst.Zone);
    }

    [Fact]
    public void Enrich_UnknownAddress_LeavesSideEmpty()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend));
        var record = Flow("10.128.0.5", "203.0.113.9");

        enricher.Enrich(record);

        Assert.True(record.Dst.IsEmpty);
        Assert.False(record.Src.IsEmpty);
    }

    [Fact]
    public void Enrich_IPv4MappedAddress_MatchesIPv4Entry()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend));
        var record = new FlowRecord { SrcAddr = IPAddress.Parse("::ffff:10.128.0.5"), DstAddr = IPAddress.IPv6Loopback };

        enricher.Enrich(record);

        Assert.Equal(s_frontend.Name, record.Src.Name);
    }

    [Fact]
    public void Enrich_NodeSide_NeverWritesEmptyNamespace()
    {
        var enricher = Enricher(null, ("10.0.0.1", s_nodeEntry1));
        var record = Flow("10.0.0.1", "10.0.0.9");

        enricher.Enrich(record);

        Assert.Equal("node-1", record.Src.Name);
        Assert.Equal(EnrichmentEntry.Node, record.Src.OwnerType);
        Assert.Null(record.Src.Namespace);
    }

    [Fact]
    public void EnrichmentEntry_EmptyNamespace_IsNull()
    {
        var entry = new EnrichmentEntry(EnrichmentEntry.Pod, "p", "", EnrichmentEntry.Pod, "p");
        var side = new KubernetesMetadata();

        entry.ApplyTo(side);

        Assert.Null(entry.Namespace);
        Assert.Null(side.Namespace);
    }

    [Fact]
    public void Enrich_SourceHostIsAgent_Egress()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend), ("10.129.0.7", s_backend));
        var record = Flow("10.128.0.5", "10.129.0.7", agent: s_node1, direction: 0);

        enricher.Enrich(record);

        Assert.Equal(1, record.FlowDirection);
    }

    [Fact]
    public void Enrich_DestinationHostIsAgent_Ingress()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend), ("10.129.0.7", s_backend));
        var record = Flow("10.128.0.5", "10.129.0.7", agent: s_node2, direction: 1);

        enricher.Enrich(record);

        Assert.Equal(0, record.FlowDirection);
    }

    [Fact]
    public void Enrich_SameHostOnBothSides_Inner()
    {
        var sameNode = new EnrichmentEntry(EnrichmentEntry.Pod, "cart-1", "shop", "Deployment", "cart", s_node1,
            "node-1");
        var enricher = Enricher(null, ("10.128.0.5", s_frontend), ("10.128.0.6", sameNode));
        var record = Flow("10.128.0.5", "10.128.0.6", agent: s_node1, direction: 0);

        enricher.Enrich(record);

        Assert.Equal(2, record.FlowDirection);
    }

    [Fact]
    public void Enrich_AgentIsNeitherHost_LeavesDirection()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend), ("10.129.0.7", s_backend));
        var record = Flow("10.128.0.5", "10.129.0.7", agent: IPAddress.Parse("10.0.0.3"), direction: 1);

        enricher.Enrich(record);

        Assert.Equal(1, record.FlowDirection);
    }

    [Fact]
    public void Enrich_NoAgentIP_LeavesDirectionUnset()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend), ("10.129.0.7", s_backend));
        var record = Flow("10.128.0.5", "10.129.0.7");

        enricher.Enrich(record);

        Assert.Null(record.FlowDirection);
    }

    [Fact]
    public void Enrich_NeitherSideResolved_LeavesDirectionUnset()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend));
        var record = Flow("192.0.2.1", "192.0.2.2", agent: s_node1);

        enricher.Enrich(record);

        Assert.Null(record.FlowDirection);
    }

    [Fact]
    public void Enrich_OnlySourceResolvedOnAgent_Egress()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend));
        var record = Flow("10.128.0.5", "192.0.2.2", agent: IPAddress.Parse("::ffff:10.0.0.1"));

        enricher.Enrich(record);

        Assert.Equal(1, record.FlowDirection);
    }

    [Fact]
    public void Enrich_AppNamespaceOnOneSide_AppLayer()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend), ("10.129.0.10", s_dns));
        var record = Flow("10.129.0.10", "10.128.0.5");

        enricher.Enrich(record);

        Assert.Equal(KubernetesEnricher.AppLayer, record.K8SFlowLayer);
    }

    [Fact]
    public void Enrich_InfraNamespacesAndNode_InfraLayer()
    {
        var enricher = Enricher(null, ("10.129.0.10", s_dns), ("10.0.0.1", s_nodeEntry1));
        var record = Flow("10.0.0.1", "10.129.0.10");

        enricher.Enrich(record);

        Assert.Equal(KubernetesEnricher.InfraLayer, record.K8SFlowLayer);
    }

    [Fact]
    public void Enrich_InfraReferenceInDefaultNamespace_InfraLayer()
    {
        var enricher = Enricher(null, ("10.129.0.10", s_dns), ("172.30.0.1", s_api));
        var record = Flow("10.129.0.10", "172.30.0.1");

        enricher.Enrich(record);

        Assert.Equal(KubernetesEnricher.InfraLayer, record.K8SFlowLayer);
    }

    [Fact]
    public void Enrich_OtherServiceInDefaultNamespace_AppLayer()
    {
        var other = new EnrichmentEntry(EnrichmentEntry.Service, "web", "default", EnrichmentEntry.Service, "web");
        var enricher = Enricher(null, ("10.129.0.10", s_dns), ("172.30.0.2", other));
        var record = Flow("10.129.0.10", "172.30.0.2");

        enricher.Enrich(record);

        Assert.Equal(KubernetesEnricher.AppLayer, record.K8SFlowLayer);
    }

    [Fact]
    public void Enrich_NothingResolved_InfraLayerAsFlowlogsPipeline()
    {
        var enricher = Enricher(null, ("10.128.0.5", s_frontend));
        var record = Flow("192.0.2.1", "192.0.2.2");

        enricher.Enrich(record);

        Assert.Equal(KubernetesEnricher.InfraLayer, record.K8SFlowLayer);
    }

    [Fact]
    public void Enrich_ConfiguredPrefixes_ReplaceDefaults()
    {
        var options = new EnrichmentOptions { InfraPrefixes = ["shop"], InfraRefs = [] };
        var enricher = Enricher(options, ("10.128.0.5", s_frontend), ("10.129.0.10", s_dns));
        var record = Flow("10.128.0.5", "10.129.0.10");

        enricher.Enrich(record);

        // shop is infra now, and kube-system no longer is.
        Assert.Equal(KubernetesEnricher.AppLayer, record.K8SFlowLayer);
        var shopOnly = Flow("10.128.0.5", "10.128.0.5");
        enricher.Enrich(shopOnly);
        Assert.Equal(KubernetesEnricher.InfraLayer, shopOnly.K8SFlowLayer);
    }

    [Fact]
    public void Enrich_ClusterName_SetOnlyWhenAbsent()
    {
        var enricher = new KubernetesEnricher(new EnrichmentOptions { ClusterName = "east" }, resolvesAddresses: false);
        var plain = Flow("10.128.0.5", "10.129.0.7");
        var named = Flow("10.128.0.5", "10.129.0.7");
        named.K8SClusterName = "west";

        enricher.Enrich(plain);
        enricher.Enrich(named);

        Assert.Equal("east", plain.K8SClusterName);
        Assert.Equal("west", named.K8SClusterName);
    }

    [Fact]
    public void Enrich_NoSourceConfigured_DerivesNothing()
    {
        var enricher = new KubernetesEnricher(new EnrichmentOptions(), resolvesAddresses: false);
        var record = Flow("10.128.0.5", "10.129.0.7", agent: s_node1, direction: 0);

        enricher.Enrich(record);

        Assert.Null(record.K8SFlowLayer);
        Assert.Equal(0, record.FlowDirection);
        Assert.True(record.Src.IsEmpty);
    }

    [Fact]
    public void Publish_ClusterAndInventory_ClusterWinsSameKindInventoryFillsTheRest()
    {
        var clusterBuilder = new EnrichmentIndexBuilder();
        clusterBuilder.Add(IPAddress.Parse("10.128.0.5"), s_frontend);
        var inventoryBuilder = new EnrichmentIndexBuilder();
        var stale = new EnrichmentEntry(EnrichmentEntry.Pod, "old", "shop", EnrichmentEntry.Pod, "old");
        inventoryBuilder.Add(IPAddress.Parse("10.128.0.5"), stale);
        inventoryBuilder.AddCidr(IPAddress.Parse("192.0.2.0"), 24, s_api);
        var enricher = new KubernetesEnricher(new EnrichmentOptions());

        enricher.Publish(EnrichmentSource.Inventory, inventoryBuilder.Build());
        enricher.Publish(EnrichmentSource.Kubernetes, clusterBuilder.Build());

        Assert.Same(s_frontend, enricher.Index.Lookup(IPAddress.Parse("10.128.0.5")));
        Assert.Same(s_api, enricher.Index.Lookup(IPAddress.Parse("192.0.2.77")));
        Assert.Equal(2, enricher.Version);
    }
}
