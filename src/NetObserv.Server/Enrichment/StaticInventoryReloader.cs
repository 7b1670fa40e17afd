using NetObserv.Flows.Enrichment;
using NetObserv.Server.Hosting;

namespace NetObserv.Server.Enrichment;

/// <summary>
/// Loads the inventory file at start and again whenever its modification time or size changes and
/// then holds still for one poll interval (polled, so it also follows a ConfigMap's symlink swap). A file that fails validation is logged
/// with every error and leaves the last good inventory in place.
/// </summary>
internal sealed class StaticInventoryReloader : BackgroundService
{
    private readonly KubernetesEnricher _enricher;
    private readonly string _path;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private (DateTime WriteTime, long Length)? _loaded;
    private (DateTime WriteTime, long Length)? _seen;
    private bool _reportedMissing;

    public StaticInventoryReloader(KubernetesEnricher enricher, EnrichmentOptions options, TimeProvider time,
        ILogger<StaticInventoryReloader> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _enricher = enricher;
        _path = Path.GetFullPath(options.InventoryFile ?? throw new ArgumentException("no inventory file", nameof(options)));
        _interval = options.InventoryPollInterval;
        _time = time;
        _logger = logger;
    }

    /// <summary>
    /// Loads the file if it changed since the last load and has stayed the same since the previous
    /// poll (so a file caught half-written is not loaded); true when a new inventory was published.
    /// </summary>
    public bool Poll() => Poll(requireStable: true);

    private bool Poll(bool requireStable)
    {
        // Stat the file the link chain ends at: a ConfigMap volume swaps a directory link behind an
        // unchanged file link, so the link's own time and size never change.
        FileInfo info;
        try
        {
            info = new FileInfo(File.ResolveLinkTarget(_path, returnFinalTarget: true)?.FullName ?? _path);
        }
        catch (IOException)
        {
            info = new FileInfo(_path); // a dangling link: reported as missing below
        }

        if (!info.Exists)
        {
            if (!_reportedMissing)
            {
                EnrichmentLog.InventoryMissing(_logger, _path);
                _reportedMissing = true;
            }

            return false;
        }

        _reportedMissing = false;
        var stamp = (info.LastWriteTimeUtc, info.Length);
        if (_loaded == stamp)
        {
            return false;
        }

        if (requireStable && _seen != stamp)
        {
            _seen = stamp;
            return false;
        }

        _seen = stamp;
        _loaded = stamp;
        try
        {
            var inventory = StaticInventory.Load(_path);
            _enricher.Publish(EnrichmentSource.Inventory, inventory.Index);
            EnrichmentLog.InventoryLoaded(_logger, _path, inventory.NodeCount, inventory.EntryCount,
                inventory.Index.AddressCount, inventory.Index.CidrCount);
            return true;
        }
        catch (StaticInventoryException e)
        {
            EnrichmentLog.InventoryInvalid(_logger, e.Message);
            return false;
        }
    }

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        Poll(requireStable: false); // flows that arrive right after start are enriched
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        PeriodicPoll.RunAsync(_interval, _time, Poll, stoppingToken);
}
