using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Enrichment;
using NetObserv.Server.Enrichment;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Enrichment;

public sealed class EnrichmentServiceCollectionExtensionsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("netobserv-enrichment-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddFlowEnrichment(configuration);
        return services.BuildServiceProvider();
    }

    private static FlowRecord Flow(string src, string dst) =>
        new() { SrcAddr = IPAddress.Parse(src), DstAddr = IPAddress.Parse(dst) };

    [Fact]
    public void AddFlowEnrichment_NothingConfigured_EnricherWithEmptyIndexAndNoHostedService()
    {
        using var provider = Build(new() { ["Enrichment:Kubernetes"] = "false", ["Enrichment:ClusterName"] = "east" });

        var enricher = provider.GetRequiredService<IFlowEnricher>();
        var record = Flow("10.128.0.12", "10.0.1.11");
        enricher.Enrich(record);

        Assert.Empty(provider.GetServices<IHostedService>());
        Assert.True(record.Src.IsEmpty);
        Assert.Null(record.K8SFlowLayer);
        Assert.Equal("east", record.K8SClusterName);
    }

    [Fact]
    public void AddFlowEnrichment_KubernetesOn_RegistersInformer()
    {
        using var provider = Build(new()
        {
            ["Enrichment:Kubernetes"] = "true",
            ["Enrichment:Kubeconfig"] = Path.Combine(_directory, "none"),
        });

        Assert.Single(provider.GetServices<IHostedService>().OfType<KubernetesInformer>());
    }

    [Fact]
    public void AddFlowEnrichment_InvalidOptions_ReportsEveryError()
    {
        using var provider = Build(new()
        {
            ["Enrichment:Kubernetes"] = "false",
            ["Enrichment:InfraRefs:0"] = "no-slash",
            ["Enrichment:ResyncPeriod"] = "-00:00:01",
        });

        var e = Assert.Throws<OptionsValidationException>(
            () => provider.GetRequiredService<IOptions<EnrichmentOptions>>().Value);

        Assert.Contains(e.Failures, f => f.Contains("'no-slash' is not namespace/name", StringComparison.Ordinal));
        Assert.Contains(e.Failures, f => f.Contains("ResyncPeriod", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddFlowEnrichment_InventoryFile_EnrichesAndFollowsFileChanges()
    {
        var path = Path.Combine(_directory, "inventory.yaml");
        await File.WriteAllTextAsync(path, """
            nodes:
              - {name: worker-1, ip: 10.0.1.11, zone: zone-a}
            entries:
              - {ip: 10.128.0.12, type: Pod, namespace: shop, name: frontend-1, ownerType: Deployment, ownerName: frontend, node: worker-1}
            """);
        using var provider = Build(new()
        {
            ["Enrichment:Kubernetes"] = "false",
            ["Enrichment:InventoryFile"] = path,
            ["Enrichment:InventoryPollInterval"] = "00:00:00.050",
        });
        var enricher = provider.GetRequiredService<IFlowEnricher>();
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(CancellationToken.None).DefaultTimeout();
        }

        try
        {
            // Loaded at start: the first flow is already enriched.
            var first = Flow("10.128.0.12", "10.0.1.11");
            enricher.Enrich(first);
            Assert.Equal("frontend", first.Src.OwnerName);
            Assert.Equal("zone-a", first.Src.Zone);
            Assert.Equal("worker-1", first.Dst.Name);
            Assert.Equal(KubernetesEnricher.AppLayer, first.K8SFlowLayer);

            // An invalid file is refused; the last good inventory stays.
            await File.WriteAllTextAsync(path, "entries:\n  - {ip: 10.128.0.999, type: Pod, namespace: shop, name: x}\n");
            var enrichment = provider.GetRequiredService<KubernetesEnricher>();
            var version = enrichment.Version;
            await Task.Delay(300);
            Assert.Equal(version, enrichment.Version);
            var during = Flow("10.128.0.12", "10.0.1.11");
            enricher.Enrich(during);
            Assert.Equal("frontend", during.Src.OwnerName);

            // A valid change is picked up.
            await File.WriteAllTextAsync(path, """
                entries:
                  - {ip: 10.128.0.12, type: Pod, namespace: shop, name: frontend-2, ownerType: Deployment, ownerName: storefront}
                """);
            await Timeouts.WaitUntilAsync(() =>
            {
                var record = Flow("10.128.0.12", "10.0.1.11");
                enricher.Enrich(record);
                return Task.FromResult(record.Src.OwnerName == "storefront" && record.Dst.IsEmpty);
            }, Timeouts.Default, "the changed inventory");
        }
        finally
        {
            foreach (var service in hosted)
            {
                await service.StopAsync(CancellationToken.None).DefaultTimeout();
            }
        }
    }

    [Fact]
    public async Task StaticInventoryReloader_ConfigMapStyleLinkSwap_Reloads()
    {
        // A ConfigMap volume: inventory.yaml -> ..data/inventory.yaml, ..data -> ..v1; an update writes
        // ..v2 and points ..data at it.
        var v1 = Directory.CreateDirectory(Path.Combine(_directory, "..v1")).FullName;
        await File.WriteAllTextAsync(Path.Combine(v1, "inventory.yaml"),
            "entries:\n  - {ip: 10.1.0.1, type: Service, namespace: a, name: before}\n");
        var data = Path.Combine(_directory, "..data");
        Directory.CreateSymbolicLink(data, "..v1");
        var path = Path.Combine(_directory, "inventory.yaml");
        File.CreateSymbolicLink(path, Path.Combine("..data", "inventory.yaml"));
        var enricher = new KubernetesEnricher(new EnrichmentOptions());
        var reloader = new StaticInventoryReloader(enricher, new EnrichmentOptions { InventoryFile = path },
            TimeProvider.System, new Microsoft.Extensions.Logging.Abstractions.NullLogger<StaticInventoryReloader>());
        await reloader.StartAsync(CancellationToken.None).DefaultTimeout();
        await reloader.StopAsync(CancellationToken.None).DefaultTimeout();
        Assert.Equal("before", enricher.Index.Lookup(IPAddress.Parse("10.1.0.1"))?.Name);

        var v2 = Directory.CreateDirectory(Path.Combine(_directory, "..v2")).FullName;
        await File.WriteAllTextAsync(Path.Combine(v2, "inventory.yaml"),
            "entries:\n  - {ip: 10.1.0.1, type: Service, namespace: a, name: after}\n");
        Directory.Delete(data); // removes the link only
        Directory.CreateSymbolicLink(data, "..v2");
        Assert.True(File.Exists(Path.Combine(v1, "inventory.yaml")));

        Assert.False(reloader.Poll()); // changed: wait one interval for it to hold still
        Assert.True(reloader.Poll());
        Assert.Equal("after", enricher.Index.Lookup(IPAddress.Parse("10.1.0.1"))?.Name);
        Assert.False(reloader.Poll());
    }
}
