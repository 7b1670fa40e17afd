using System.Net;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Flows.Tests.Enrichment;

public sealed class StaticInventoryTests
{
    private const string Yaml = """
        nodes:
          - name: worker-1
            ip: 10.0.1.11
            zone: zone-a
          - name: worker-2
            ips: [10.0.1.12, "fd00::12"]
        entries:
          - ip: 10.128.0.12
            type: Pod
            namespace: shop
            name: frontend-6d8f7c9b5d-x2x7p
            ownerType: Deployment
            ownerName: frontend
            node: worker-1
          - ip: 10.128.0.13
            type: Pod
            namespace: shop
            name: debug
          - cidr: 172.30.0.0/16
            type: Service
            namespace: default
            name: cluster-services
          - cidr: 172.30.5.0/24
            type: Service
            namespace: shop
            name: shop-services
        """;

    [Fact]
    public void Parse_YamlWithNodesAndEntries_IndexesEverything()
    {
        var inventory = StaticInventory.Parse(Yaml, "test.yaml");
        var index = inventory.Index;

        Assert.Equal(2, inventory.NodeCount);
        Assert.Equal(4, inventory.EntryCount);
        var pod = index.Lookup(IPAddress.Parse("10.128.0.12"));
        Assert.NotNull(pod);
        Assert.Equal(EnrichmentEntry.Pod, pod.Type);
        Assert.Equal("shop", pod.Namespace);
        Assert.Equal("Deployment", pod.OwnerType);
        Assert.Equal("frontend", pod.OwnerName);
        Assert.Equal("worker-1", pod.HostName);
        Assert.Equal(IPAddress.Parse("10.0.1.11"), pod.HostIP);
        Assert.Equal("zone-a", pod.Zone);

        var bare = index.Lookup(IPAddress.Parse("10.128.0.13"));
        Assert.Equal(EnrichmentEntry.Pod, bare?.OwnerType);
        Assert.Equal("debug", bare?.OwnerName);
        Assert.Null(bare?.HostIP);

        var node = index.Lookup(IPAddress.Parse("fd00::12"));
        Assert.Equal(EnrichmentEntry.Node, node?.Type);
        Assert.Equal("worker-2", node?.OwnerName);
        Assert.Equal(IPAddress.Parse("10.0.1.12"), node?.HostIP);
        Assert.Null(node?.Namespace);

        Assert.Equal("shop-services", index.Lookup(IPAddress.Parse("172.30.5.40"))?.Name);
        Assert.Equal("cluster-services", index.Lookup(IPAddress.Parse("172.30.6.40"))?.Name);
        Assert.Equal(EnrichmentEntry.Service, index.Lookup(IPAddress.Parse("172.30.6.40"))?.OwnerType);
    }

    [Fact]
    public void Parse_Json_SameResultAsYaml()
    {
        const string json = """
            {
            	"nodes": [ { "name": "worker-1", "ip": "10.0.1.11", "zone": "zone-a" } ],
            	"entries": [
            		{ "ip": "10.128.0.12", "type": "Pod", "namespace": "shop", "name": "frontend-1",
            		  "ownerType": "Deployment", "ownerName": "frontend", "node": "worker-1" },
            		{ "cidr": "fd00:30::/64", "type": "Service", "namespace": "default", "name": "v6-services" }
            	]
            }
            """;

        var index = StaticInventory.Parse(json, "test.json").Index;

        var pod = index.Lookup(IPAddress.Parse("10.128.0.12"));
        Assert.Equal("frontend", pod?.OwnerName);
        Assert.Equal("zone-a", pod?.Zone);
        Assert.Equal("v6-services", index.Lookup(IPAddress.Parse("fd00:30::99"))?.Name);
        Assert.Equal("worker-1", index.Lookup(IPAddress.Parse("10.0.1.11"))?.Name);
    }

    [Fact]
    public void Parse_EmptyText_EmptyInventory()
    {
        var inventory = StaticInventory.Parse("", "empty.yaml");

        Assert.Equal(0, inventory.Index.AddressCount);
        Assert.Equal(0, inventory.EntryCount);
    }

    [Theory]
    [InlineData("entries:\n  - ip: 10.0.0.300\n    type: Pod\n    namespace: a\n    name: p\n",
        "line 2: entries[0].ip: '10.0.0.300' is not an IP address")]
    [InlineData("entries:\n  - cidr: 10.0.0.0/33\n    type: Service\n    namespace: a\n    name: s\n",
        "line 2: entries[0].cidr: '10.0.0.0/33' is not a CIDR range")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    cidr: 10.0.0.0/8\n    type: Pod\n    namespace: a\n    name: p\n",
        "line 2: entries[0]: exactly one of 'ip' or 'cidr' is required")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    type: Pod\n    namespace: a\n",
        "line 2: entries[0]: 'name' is required")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    type: Pod\n    name: p\n",
        "line 2: entries[0]: 'namespace' is required for a Pod")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    type: Deployment\n    namespace: a\n    name: p\n",
        "line 3: entries[0].type: 'Deployment' is not Pod or Service")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    type: Node\n    name: n\n",
        "entries[0].type: nodes are declared in the 'nodes' section")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    type: Pod\n    namespace: a\n    name: p\n    nmespace: b\n",
        "line 6: entries[0]: unknown key 'nmespace'")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    type: Pod\n    namespace: a\n    name: p\n    node: ghost\n",
        "line 6: entries[0].node: 'ghost' is not declared in 'nodes'")]
    [InlineData("entries:\n  - ip: 10.0.0.1\n    type: Pod\n    namespace: a\n    name: p\n    ownerType: Deployment\n",
        "entries[0]: 'ownerType' and 'ownerName' go together")]
    [InlineData("nodes:\n  - name: n1\n    ip: 10.0.0.1\n  - name: n1\n    ip: 10.0.0.2\n",
        "line 4: nodes[1]: node 'n1' is declared twice")]
    [InlineData("nodes:\n  - name: n1\n",
        "line 2: nodes[0]: 'ip' or 'ips' is required")]
    [InlineData("nodes:\n  - name: n1\n    ip: 10.0.0.1\n  - name: n2\n    ip: 10.0.0.1\n",
        "nodes[1]: address 10.0.0.1 already belongs to node 'n1'")]
    [InlineData("entries: {ip: 10.0.0.1}\n", "line 1: entries: a list is expected")]
    [InlineData("- 1\n- 2\n", "the top level must be a mapping")]
    [InlineData("entries:\n  - ip: [10.0.0.1\n", "not valid YAML or JSON")]
    [InlineData("entry:\n  - ip: 10.0.0.1\n", "line 1: unknown key 'entry'")]
    public void Parse_InvalidEntry_ReportsPlaceAndProblem(string text, string expected)
    {
        var e = Assert.Throws<StaticInventoryException>(() => StaticInventory.Parse(text, "bad.yaml"));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("bad.yaml", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_DuplicateAddress_NamesTheFirstEntry()
    {
        const string text = """
            entries:
              - {ip: 10.0.0.1, type: Pod, namespace: a, name: p1}
              - {ip: 10.0.0.1, type: Pod, namespace: a, name: p2}
            """;

        var e = Assert.Throws<StaticInventoryException>(() => StaticInventory.Parse(text, "dup.yaml"));

        Assert.Contains("line 3: entries[1].ip: 10.0.0.1 is already mapped by entries[0]", e.Message,
            StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeveralProblems_ReportsEveryOne()
    {
        const string text = """
            entries:
              - {ip: 10.0.0.999, type: Pod, namespace: a, name: p1}
              - {ip: 10.0.0.2, type: Pod, name: p2}
              - {cidr: nonsense, type: Service, namespace: a, name: s}
            """;

        var e = Assert.Throws<StaticInventoryException>(() => StaticInventory.Parse(text, "many.yaml"));

        Assert.Equal(3, e.Errors.Count);
        Assert.Contains(e.Errors, m => m.StartsWith("line 2: entries[0].ip", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("line 3: entries[1]", StringComparison.Ordinal));
        Assert.Contains(e.Errors, m => m.StartsWith("line 4: entries[2].cidr", StringComparison.Ordinal));
    }

    [Fact]
    public void Load_MissingFile_ErrorNamesFile()
    {
        var path = Path.Combine(Path.GetTempPath(), "netobserv-no-such-inventory-" + Guid.NewGuid().ToString("N") + ".yaml");

        var e = Assert.Throws<StaticInventoryException>(() => StaticInventory.Load(path));

        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_ExampleInventory_IsValid()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NetObserv.GrafanaBackend.sln")))
        {
            dir = dir.Parent;
        }

        Assert.NotNull(dir);
        var inventory = StaticInventory.Load(Path.Combine(dir.FullName, "deploy", "examples", "inventory.yaml"));

        Assert.True(inventory.EntryCount > 0);
        Assert.True(inventory.NodeCount > 0);
    }
}
