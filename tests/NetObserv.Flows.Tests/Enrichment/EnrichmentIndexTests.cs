using System.Net;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Flows.Tests.Enrichment;

public sealed class EnrichmentIndexTests
{
    private static EnrichmentEntry Entry(string type, string name) =>
        new(type, name, type == EnrichmentEntry.Node ? null : "ns", type, name);

    [Fact]
    public void Lookup_PodNodeAndServiceOnOneAddress_PodWins()
    {
        var address = IPAddress.Parse("10.0.0.5");
        var pod = Entry(EnrichmentEntry.Pod, "pod");
        var builder = new EnrichmentIndexBuilder();

        builder.Add(address, Entry(EnrichmentEntry.Service, "svc"));
        builder.Add(address, Entry(EnrichmentEntry.Node, "node"));
        builder.Add(address, pod);

        Assert.Same(pod, builder.Build().Lookup(address));
    }

    [Fact]
    public void Lookup_NodeAndService_NodeWinsWhicheverComesFirst()
    {
        var address = IPAddress.Parse("10.0.0.5");
        var node = Entry(EnrichmentEntry.Node, "node");
        var builder = new EnrichmentIndexBuilder();

        builder.Add(address, node);
        var serviceAdded = builder.Add(address, Entry(EnrichmentEntry.Service, "svc"));

        Assert.False(serviceAdded);
        Assert.Same(node, builder.Build().Lookup(address));
    }

    [Fact]
    public void Lookup_TwoEntriesOfSameKind_FirstWins()
    {
        var address = IPAddress.Parse("fd00::5");
        var first = Entry(EnrichmentEntry.Pod, "first");
        var builder = new EnrichmentIndexBuilder();

        builder.Add(address, first);
        builder.Add(address, Entry(EnrichmentEntry.Pod, "second"));

        Assert.Same(first, builder.Build().Lookup(address));
    }

    [Fact]
    public void Lookup_NestedCidrs_LongestPrefixWins()
    {
        var wide = Entry(EnrichmentEntry.Service, "wide");
        var narrow = Entry(EnrichmentEntry.Service, "narrow");
        var narrowest = Entry(EnrichmentEntry.Service, "narrowest");
        var builder = new EnrichmentIndexBuilder();
        builder.AddCidr(IPAddress.Parse("10.0.0.0"), 8, wide);
        builder.AddCidr(IPAddress.Parse("10.1.2.3"), 32, narrowest);
        builder.AddCidr(IPAddress.Parse("10.1.0.0"), 16, narrow);

        var index = builder.Build();

        Assert.Same(narrowest, index.Lookup(IPAddress.Parse("10.1.2.3")));
        Assert.Same(narrow, index.Lookup(IPAddress.Parse("10.1.2.4")));
        Assert.Same(wide, index.Lookup(IPAddress.Parse("10.200.0.1")));
        Assert.Null(index.Lookup(IPAddress.Parse("11.0.0.1")));
        Assert.Equal(3, index.CidrCount);
    }

    [Fact]
    public void Lookup_ExactAddressInsideCidr_ExactWins()
    {
        var exact = Entry(EnrichmentEntry.Service, "exact");
        var builder = new EnrichmentIndexBuilder();
        builder.AddCidr(IPAddress.Parse("10.0.0.0"), 8, Entry(EnrichmentEntry.Pod, "range"));
        builder.Add(IPAddress.Parse("10.0.0.9"), exact);

        Assert.Same(exact, builder.Build().Lookup(IPAddress.Parse("10.0.0.9")));
    }

    [Fact]
    public void Lookup_IPv6Cidr_MatchesOnlyInsideRange()
    {
        var range = Entry(EnrichmentEntry.Service, "v6");
        var builder = new EnrichmentIndexBuilder();
        builder.AddCidr(IPAddress.Parse("fd00:10::"), 32, range);

        var index = builder.Build();

        Assert.Same(range, index.Lookup(IPAddress.Parse("fd00:10:ffff::1")));
        Assert.Null(index.Lookup(IPAddress.Parse("fd00:11::1")));
        Assert.Null(index.Lookup(IPAddress.Parse("10.0.0.1")));
    }

    [Fact]
    public void Lookup_HostBitsInCidrNetwork_AreIgnored()
    {
        var range = Entry(EnrichmentEntry.Service, "r");
        var builder = new EnrichmentIndexBuilder();
        builder.AddCidr(IPAddress.Parse("192.168.7.99"), 24, range);

        Assert.Same(range, builder.Build().Lookup(IPAddress.Parse("192.168.7.1")));
    }

    [Fact]
    public void Merge_SameAddressDifferentKinds_KindDecidesOverSource()
    {
        var address = IPAddress.Parse("10.0.0.5");
        var primary = new EnrichmentIndexBuilder();
        primary.Add(address, Entry(EnrichmentEntry.Service, "svc"));
        var secondary = new EnrichmentIndexBuilder();
        var pod = Entry(EnrichmentEntry.Pod, "pod");
        secondary.Add(address, pod);

        var merged = EnrichmentIndex.Merge(primary.Build(), secondary.Build());

        Assert.Same(pod, merged.Lookup(address));
    }

    [Fact]
    public void Empty_Lookup_ReturnsNull()
    {
        Assert.Null(EnrichmentIndex.Empty.Lookup(IPAddress.Loopback));
        Assert.Equal(0, EnrichmentIndex.Empty.AddressCount);
    }
}
