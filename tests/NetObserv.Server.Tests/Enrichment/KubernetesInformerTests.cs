using System.Diagnostics.CodeAnalysis;
using System.Net;
using NetObserv.Flows;
using NetObserv.Flows.Enrichment;
using NetObserv.Server.Enrichment;
using NetObserv.Testing;
using Xunit.Abstractions;
using static NetObserv.Server.Tests.Enrichment.FakeKubernetesApi;
using K = NetObserv.Server.Tests.Enrichment.KubernetesObjects;

namespace NetObserv.Server.Tests.Enrichment;

[SuppressMessage("Reliability", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync")]
public sealed class KubernetesInformerTests : IAsyncLifetime
{
    private const string Node1Ip = "10.0.0.1";
    private const string Node2Ip = "10.0.0.2";
    private const string FrontendIp = "10.128.0.5";

    private readonly FakeKubernetesApi _api = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("netobserv-informer-").FullName;
    private readonly KubernetesEnricher _enricher = new(new EnrichmentOptions());
    private readonly ITestOutputHelper _output;
    private KubernetesInformer? _informer;

    public KubernetesInformerTests(ITestOutputHelper output) => _output = output;

    public Task InitializeAsync()
    {
        _api.SetItems(Nodes, K.Node("node-1", Node1Ip, "zone-a", externalIp: "203.0.113.1"), K.Node("node-2", Node2Ip, "zone-b"));
        _api.SetItems(ReplicaSets, K.ReplicaSet("shop", "frontend-7d9c", "frontend"));
        _api.SetItems(Jobs, K.Job("batch", "report-28999", "report"));
        _api.SetItems(Services, K.Service("default", "kubernetes", "172.30.0.1"));
        _api.SetItems(Pods,
            K.Pod("shop", "frontend-7d9c-abcde", FrontendIp, "node-1", Node1Ip, "ReplicaSet", "frontend-7d9c"),
            K.Pod("kube-system", "kube-proxy-x1", Node2Ip, "node-2", Node2Ip, "DaemonSet", "kube-proxy"));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        if (_informer is not null)
        {
            await _informer.StopAsync(CancellationToken.None).DefaultTimeout();
            _informer.Dispose();
        }

        await _api.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }

    private async Task StartAsync(EnrichmentOptions? options = null)
    {
        options ??= new EnrichmentOptions();
        options.Kubeconfig = _api.WriteKubeconfig(_directory);
        _informer = new KubernetesInformer(() => KubernetesInformer.CreateClient(options), _enricher, options,
            TimeProvider.System, new TestOutputLogger<KubernetesInformer>(_output))
        {
            DebounceInterval = TimeSpan.FromMilliseconds(50),
        };
        await _informer.StartAsync(CancellationToken.None).DefaultTimeout();
        await WaitForAsync(() => Resolve(FrontendIp)?.OwnerName == "frontend", "the first index");
        foreach (var path in (string[])[Pods, Services, Nodes, ReplicaSets, Jobs])
        {
            await WaitForAsync(() => _api.WatchCount(path) >= 1, "a watch of " + path);
        }
    }

    private KubernetesMetadata? Resolve(string address)
    {
        var record = new FlowRecord { SrcAddr = IPAddress.Parse(address), DstAddr = IPAddress.Parse("192.0.2.1") };
        _enricher.Enrich(record);
        return record.Src.IsEmpty ? null : record.Src;
    }

    private static Task WaitForAsync(Func<bool> condition, string what) =>
        Timeouts.WaitUntilAsync(() => Task.FromResult(condition()), Timeouts.Default, what);

    [Fact]
    public async Task Start_ListedObjects_IndexedWithOwnersHostsAndZones()
    {
        await StartAsync();

        var frontend = Resolve(FrontendIp);
        Assert.NotNull(frontend);
        Assert.Equal("Pod", frontend.Type);
        Assert.Equal("shop", frontend.Namespace);
        Assert.Equal("frontend-7d9c-abcde", frontend.Name);
        Assert.Equal("Deployment", frontend.OwnerType);
        Assert.Equal(IPAddress.Parse(Node1Ip), frontend.HostIP);
        Assert.Equal("node-1", frontend.HostName);
        Assert.Equal("zone-a", frontend.Zone);

        // kube-proxy runs on the host network: its address is node-2's.
        var hostNetwork = Resolve(Node2Ip);
        Assert.Equal("Node", hostNetwork?.Type);
        Assert.Equal("node-2", hostNetwork?.Name);
        Assert.Equal("zone-b", hostNetwork?.Zone);
        Assert.Null(hostNetwork?.Namespace);

        Assert.Equal("node-1", Resolve("203.0.113.1")?.Name);
        var api = Resolve("172.30.0.1");
        Assert.Equal("Service", api?.Type);
        Assert.Equal("kubernetes", api?.OwnerName);
        Assert.Equal(1, _api.ListCount(Pods));
    }

    [Fact]
    public async Task Watch_AddModifyDelete_IndexFollowsEveryChange()
    {
        await StartAsync();

        // ADDED: a pending pod of a CronJob's Job, without an IP yet.
        var pending = K.Pod("batch", "report-28999-q7x", null, "node-2", Node2Ip, "Job", "report-28999", "Pending");
        _api.Send(Pods, "ADDED", pending);
        // MODIFIED: it got its IP.
        var running = K.Pod("batch", "report-28999-q7x", "10.129.0.9", "node-2", Node2Ip, "Job", "report-28999");
        _api.Send(Pods, "MODIFIED", running);
        await WaitForAsync(() => Resolve("10.129.0.9") is not null, "the modified pod");
        var report = Resolve("10.129.0.9")!;
        Assert.Equal("CronJob", report.OwnerType);
        Assert.Equal("report", report.OwnerName);
        Assert.Equal("batch", report.Namespace);
        Assert.Equal("node-2", report.HostName);

        // ADDED service, then a node changes zone.
        _api.Send(Services, "ADDED", K.Service("shop", "frontend", "172.30.12.80"));
        _api.Send(Nodes, "MODIFIED", K.Node("node-1", Node1Ip, "zone-c", externalIp: "203.0.113.1"));
        await WaitForAsync(() => Resolve("172.30.12.80")?.Name == "frontend", "the added service");
        await WaitForAsync(() => Resolve(FrontendIp)?.Zone == "zone-c", "the node's new zone on its pods");

        // DELETED pod: its IP no longer resolves.
        _api.Send(Pods, "DELETED", running);
        await WaitForAsync(() => Resolve("10.129.0.9") is null, "the deleted pod to disappear");

        // The ReplicaSet's owner changes: pods follow.
        _api.Send(ReplicaSets, "MODIFIED", K.ReplicaSet("shop", "frontend-7d9c", "storefront"));
        await WaitForAsync(() => Resolve(FrontendIp)?.OwnerName == "storefront", "the new owner");
        Assert.Equal(1, _api.ListCount(Pods));
    }

    [Fact]
    public async Task Watch_ErrorEventGone_RelistsFromScratch()
    {
        await StartAsync();
        _api.SetItems(Pods,
            K.Pod("shop", "frontend-7d9c-fghij", "10.128.0.77", "node-2", Node2Ip, "ReplicaSet", "frontend-7d9c"));

        _api.SendGone(Pods);

        await WaitForAsync(() => Resolve("10.128.0.77") is not null, "the relisted pod");
        await WaitForAsync(() => Resolve(FrontendIp) is null, "the pod missing from the relist to disappear");
        Assert.Equal(2, _api.ListCount(Pods));
        Assert.Equal(1, _api.ListCount(Services));
        var relisted = Resolve("10.128.0.77")!;
        Assert.Equal("frontend", relisted.OwnerName);
        Assert.Equal("zone-b", relisted.Zone);
        await WaitForAsync(() => _api.WatchCount(Pods) >= 2, "a new watch after the relist");
    }

    [Fact]
    public async Task Watch_HttpGone_RelistsFromScratch()
    {
        await StartAsync();
        _api.SetItems(Services, K.Service("shop", "cart", "172.30.9.9"));
        _api.AnswerNextWatchWithGone(Services);

        _api.EndWatch(Services); // the watch is resumed, answered 410, so the client lists again

        await WaitForAsync(() => Resolve("172.30.9.9")?.Name == "cart", "the relisted service");
        await WaitForAsync(() => Resolve("172.30.0.1") is null, "the service missing from the relist to disappear");
        Assert.Equal(2, _api.ListCount(Services));
        Assert.True(_api.WatchCount(Services) >= 2);
    }

    [Fact]
    public async Task Watch_BookmarkThenStreamEnds_ResumesFromBookmarkVersion()
    {
        await StartAsync();
        var version = _api.SendBookmark(Nodes, "Node", "v1");

        _api.EndWatch(Nodes);

        await WaitForAsync(() => _api.WatchCount(Nodes) >= 2, "the resumed watch");
        Assert.Equal(version, _api.LastWatchVersion(Nodes));
        Assert.Equal(1, _api.ListCount(Nodes));

        // The resumed watch still delivers.
        _api.Send(Nodes, "ADDED", K.Node("node-3", "10.0.0.3", "zone-c"));
        await WaitForAsync(() => Resolve("10.0.0.3")?.Name == "node-3", "the node added on the resumed watch");
    }

    [Fact]
    public async Task Resync_PeriodElapsed_ListsAgain()
    {
        _api.SetItems(Pods,
            K.Pod("shop", "frontend-7d9c-abcde", FrontendIp, "node-1", Node1Ip, "ReplicaSet", "frontend-7d9c"),
            K.Pod("batch", "report-28999-zz", "10.129.0.10", "node-2", Node2Ip, "Job", "report-28999"));
        await StartAsync(new EnrichmentOptions { ResyncPeriod = TimeSpan.FromSeconds(1) });
        Assert.Equal("report", Resolve("10.129.0.10")?.OwnerName);

        // No event is sent: only the periodic relist can learn the Job's new owner.
        _api.SetItems(Jobs, K.Job("batch", "report-28999", "weekly-report"));

        await WaitForAsync(() => Resolve("10.129.0.10")?.OwnerName == "weekly-report", "the resynced job owner");
        Assert.True(_api.ListCount(Jobs) >= 2);
    }

    [Fact]
    public async Task Start_KindForbidden_OtherKindsStillEnrich()
    {
        _api.Forbid(ReplicaSets);
        var options = new EnrichmentOptions { Kubeconfig = _api.WriteKubeconfig(_directory) };
        _informer = new KubernetesInformer(() => KubernetesInformer.CreateClient(options), _enricher, options,
            TimeProvider.System, new TestOutputLogger<KubernetesInformer>(_output))
        {
            DebounceInterval = TimeSpan.FromMilliseconds(50),
        };

        await _informer.StartAsync(CancellationToken.None).DefaultTimeout();

        // Without ReplicaSets the owner stays the ReplicaSet, as flowlogs-pipeline leaves it.
        await WaitForAsync(() => Resolve(FrontendIp)?.OwnerType == "ReplicaSet", "the index without ReplicaSets");
        Assert.Equal("frontend-7d9c", Resolve(FrontendIp)?.OwnerName);
        Assert.Equal("kubernetes", Resolve("172.30.0.1")?.Name);
    }
}
