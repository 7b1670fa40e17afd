using System.Net;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Flows.Tests.Enrichment;

public sealed class KubernetesEnricherConcurrencyTests
{
    private static EnrichmentIndex Generation(string name)
    {
        var entry = new EnrichmentEntry(EnrichmentEntry.Pod, name, "shop", "Deployment", name, IPAddress.Parse("10.0.0.1"),
            "node-1", "zone-a");
        var builder = new EnrichmentIndexBuilder();
        builder.Add(IPAddress.Parse("10.128.0.1"), entry);
        builder.Add(IPAddress.Parse("10.128.0.2"), entry);
        return builder.Build();
    }

    [Fact]
    public async Task Enrich_WhilePublishing_EachRecordSeesOneWholeIndex()
    {
        var enricher = new KubernetesEnricher(new EnrichmentOptions());
        EnrichmentIndex[] generations = [Generation("blue"), Generation("green")];
        enricher.Publish(EnrichmentSource.Kubernetes, generations[0]);
        const int Publishes = 20_000;
        using var stop = new CancellationTokenSource();

        var readersRunning = 0;
        var publisher = Task.Run(() =>
        {
            SpinWait.SpinUntil(() => Volatile.Read(ref readersRunning) == 2, TimeSpan.FromSeconds(10));
            for (var i = 1; i <= Publishes; i++)
            {
                enricher.Publish(EnrichmentSource.Kubernetes, generations[i % 2]);
            }

            stop.Cancel();
        });
        var mixed = 0;
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            var src = IPAddress.Parse("10.128.0.1");
            var dst = IPAddress.Parse("10.128.0.2");
            Interlocked.Increment(ref readersRunning);
            while (!stop.IsCancellationRequested)
            {
                var record = new FlowRecord { SrcAddr = src, DstAddr = dst };
                enricher.Enrich(record);
                if (record.Src.Name != record.Dst.Name || record.Src.Name is null)
                {
                    Interlocked.Increment(ref mixed);
                }
            }
        })).ToArray();

        await Task.WhenAll([publisher, .. readers]).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, mixed);
        Assert.Equal(Publishes + 1, enricher.Version);
    }

    [Fact]
    public void Enrich_KnownAndCidrAddresses_AllocatesNothing()
    {
        var builder = new EnrichmentIndexBuilder();
        builder.Add(IPAddress.Parse("10.128.0.1"), new EnrichmentEntry(EnrichmentEntry.Pod, "p", "shop", "Deployment",
            "d", IPAddress.Parse("10.0.0.1"), "node-1", "zone-a"));
        builder.AddCidr(IPAddress.Parse("fd00::"), 64, new EnrichmentEntry(EnrichmentEntry.Service, "s", "shop",
            EnrichmentEntry.Service, "s"));
        var enricher = new KubernetesEnricher(new EnrichmentOptions { ClusterName = "east" });
        enricher.Publish(EnrichmentSource.Inventory, builder.Build());
        var records = Enumerable.Range(0, 1000).Select(_ => new FlowRecord
        {
            SrcAddr = IPAddress.Parse("10.128.0.1"),
            DstAddr = IPAddress.Parse("fd00::1234"),
            AgentIP = IPAddress.Parse("10.0.0.1"),
        }).ToArray();
        enricher.Enrich(records[0]); // warm up

        var before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var record in records)
        {
            enricher.Enrich(record);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(0, allocated);
        Assert.Equal("p", records[^1].Src.Name);
        Assert.Equal("s", records[^1].Dst.Name);
        Assert.Equal(1, records[^1].FlowDirection);
        Assert.Equal("app", records[^1].K8SFlowLayer);
    }
}
