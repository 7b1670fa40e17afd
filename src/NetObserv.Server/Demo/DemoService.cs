using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Grpc.Core;
using Grpc.Net.Client;
using NetObserv.Flows.Pbflow;
using NetObserv.Flows.Pipeline;
using NetObserv.Server.Auth;
using NetObserv.Server.Hosting;
using NetObserv.Server.Loadgen;
using NetObserv.Storage;
using NetObserv.Storage.Copy;

namespace NetObserv.Server.Demo;

/// <summary>
/// <c>serve --demo</c>: once every listener is bound, sends the synthetic cluster's traffic
/// (<see cref="DemoTraffic"/>) to this server's own gRPC collector, as the cluster's agents would
/// (<c>pbflow.Collector/Send</c> over h2c on the loopback), so it goes through the real ingest path:
/// mapping, inventory enrichment, the channel and the batch writer. With a backfill it first sends the
/// past hours in large batches. When the first data can be queried it prints the URLs to use.
/// </summary>
internal sealed class DemoService : BackgroundService
{
    private const int MaxRecordsPerMessage = 10_000;
    private const int BackfillInFlight = 2;
    private const long BackfillWindowMs = 60_000;
    private static readonly TimeSpan s_tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan s_maxCatchUp = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan s_firstDataTimeout = TimeSpan.FromSeconds(45);

    private readonly DemoOptions _options;
    private readonly SyntheticCluster _cluster;
    private readonly ServerOptions _server;
    private readonly ListenerEndpoints? _endpoints;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly FlowBatchWriter _writer;
    private readonly FlowChannel _channel;
    private readonly TimeSpan _retention;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Metadata _headers;
    private readonly TaskCompletionSource<DemoUrls> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sent;
    private int _backfillWeight;

    public DemoService(DemoOptions options, SyntheticCluster cluster, IConfiguration configuration,
        IHostApplicationLifetime lifetime, FlowBatchWriter writer, FlowChannel channel, TimeProvider time,
        ILogger<DemoService> logger, InternalIngestToken ingestToken, ListenerEndpoints? endpoints = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _options = options;
        _cluster = cluster;
        _server = configuration.GetSection(ServerOptions.Section).Get<ServerOptions>() ?? new ServerOptions();
        _retention = (configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions()).Retention;
        _lifetime = lifetime;
        _writer = writer;
        _channel = channel;
        _time = time;
        _logger = logger;
        _endpoints = endpoints;
        _headers = new Metadata { { "authorization", ingestToken?.Header ?? "" } };
    }

    /// <summary>Completes with the printed URLs once the first demo data can be queried.</summary>
    public Task<DemoUrls> Ready => _ready.Task;

    /// <summary>Records the collector acknowledged so far.</summary>
    public long RecordsSent => Interlocked.Read(ref _sent);

    /// <summary>Where the banner goes. Defaults to the console.</summary>
    public TextWriter Output { get; set; } = Console.Out;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, _lifetime.ApplicationStopping);
        var cancellationToken = stop.Token;
        try
        {
            await WaitForStartAsync(cancellationToken).ConfigureAwait(false);
            if (!_server.Ingests)
            {
                DemoLog.NoIngest(_logger, "query");
                _ready.TrySetException(new InvalidOperationException("the demo needs the gRPC ingest listener"));
                return;
            }

            var urls = DemoUrls.For(_server, _endpoints);
            using var channel = GrpcChannel.ForAddress(urls.LocalGrpc, new GrpcChannelOptions { MaxSendMessageSize = null });
            var client = new Collector.CollectorClient(channel);
            var traffic = new DemoTraffic(_cluster, _options.Seed, _options.PeakFlowsPerSecond);
            var baseline = _writer.RowsWritten;
            var origin = _time.GetUtcNow().ToUnixTimeMilliseconds();
            // Ingest refuses flows older than the retention: a longer backfill starts at its edge.
            var backfill = (long)Math.Min(_options.BackfillDuration.TotalMilliseconds,
                Math.Max(0, (_retention - TimeSpan.FromMinutes(1)).TotalMilliseconds));
            if (backfill > 0)
            {
                await BackfillAsync(client, traffic, origin - backfill, origin, cancellationToken).ConfigureAwait(false);
            }

            await LiveAsync(client, traffic, origin, baseline, urls, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (cancellationToken.IsCancellationRequested
            && ex is OperationCanceledException or RpcException)
        {
            _ready.TrySetCanceled(CancellationToken.None);
        }
        catch (Exception ex) when (ex is RpcException or HttpRequestException or InvalidOperationException or IOException)
        {
            DemoLog.Stopped(_logger, ex);
            _ready.TrySetException(ex);
        }
    }

    private async Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var onStarted = _lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        using var onStop = cancellationToken.Register(() => started.TrySetCanceled(cancellationToken));
        await started.Task.ConfigureAwait(false);
    }

    private async Task BackfillAsync(Collector.CollectorClient client, DemoTraffic traffic, long fromMs, long toMs,
        CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var averageRecords = EstimateRecords(fromMs, toMs);
        var weight = (int)Math.Max(1, Math.Ceiling(averageRecords / _options.BackfillRecordBudget));
        _backfillWeight = weight;
        DemoLog.BackfillStarted(_logger, (toMs - fromMs) / 3_600_000.0, (long)(averageRecords / weight), weight);

        var buffer = new List<Record>(MaxRecordsPerMessage * 2);
        var inFlight = new Queue<Task>();
        var lastPercent = 0;
        long sent = 0;
        for (var window = fromMs; window < toMs; window += BackfillWindowMs)
        {
            traffic.Generate(window, Math.Min(window + BackfillWindowMs, toMs), weight, buffer);
            while (buffer.Count >= MaxRecordsPerMessage || (buffer.Count > 0 && window + BackfillWindowMs >= toMs))
            {
                var message = Take(buffer);
                if (inFlight.Count >= BackfillInFlight)
                {
                    await inFlight.Dequeue().ConfigureAwait(false);
                }

                inFlight.Enqueue(SendAsync(client, message, cancellationToken));
                sent += message.Entries.Count;
            }

            var percent = (int)((window + BackfillWindowMs - fromMs) * 100 / (toMs - fromMs));
            if (percent >= lastPercent + 20 && percent < 100)
            {
                lastPercent = percent - (percent % 20);
                DemoLog.BackfillProgress(_logger, lastPercent, sent);
            }
        }

        while (inFlight.Count > 0)
        {
            await inFlight.Dequeue().ConfigureAwait(false);
        }

        DemoLog.BackfillDone(_logger, sent, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Records a backfill of (<paramref name="fromMs"/>, <paramref name="toMs"/>] would send at weight one, from a ten-minute sample.</summary>
    private double EstimateRecords(long fromMs, long toMs)
    {
        const long SampleMs = 600_000;
        var probe = new DemoTraffic(_cluster, _options.Seed + 1, _options.PeakFlowsPerSecond);
        var sample = new List<Record>();
        probe.Generate(toMs - SampleMs, toMs, 1, sample);
        var peakPerMs = sample.Count / DemoTraffic.DailyFactor(toMs - (SampleMs / 2)) / SampleMs;
        return peakPerMs * DemoTraffic.AverageDailyFactor * (toMs - fromMs);
    }

    private async Task LiveAsync(Collector.CollectorClient client, DemoTraffic traffic, long originMs, long baselineRows,
        DemoUrls urls, CancellationToken cancellationToken)
    {
        // The banner waits for queryable data while traffic keeps flowing.
        var announce = AnnounceAsync(baselineRows, urls, cancellationToken);
        using var timer = new PeriodicTimer(s_tick, _time);
        var last = originMs;
        var records = new List<Record>();
        do
        {
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            traffic.Generate(Math.Max(last, now - (long)s_maxCatchUp.TotalMilliseconds), now, 1, records);
            last = now;
            while (records.Count > 0)
            {
                await SendAsync(client, Take(records), cancellationToken).ConfigureAwait(false);
            }

            if (announce.IsCompleted)
            {
                await announce.ConfigureAwait(false);
            }
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Prints the banner once live records were sent, written, and the example query answers with data.</summary>
    private async Task AnnounceAsync(long baselineRows, DemoUrls urls, CancellationToken cancellationToken)
    {
        await Task.Yield();
        while (RecordsSent == 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
        }

        var sent = RecordsSent;
        var clock = Stopwatch.StartNew();
        while (_writer.RowsWritten < baselineRows + sent && clock.Elapsed < s_firstDataTimeout)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), _time, cancellationToken).ConfigureAwait(false);
        }

        using var http = new HttpClient { BaseAddress = urls.LocalHttp, Timeout = TimeSpan.FromSeconds(10) };
        while (!await HasDataAsync(http, cancellationToken).ConfigureAwait(false))
        {
            if (clock.Elapsed > s_firstDataTimeout)
            {
                DemoLog.NoData(_logger, (int)s_firstDataTimeout.TotalSeconds);
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), _time, cancellationToken).ConfigureAwait(false);
        }

        await Output.WriteAsync(Banner(urls)).ConfigureAwait(false);
        await Output.FlushAsync(cancellationToken).ConfigureAwait(false);
        _ready.TrySetResult(urls);
    }

    private static async Task<bool> HasDataAsync(HttpClient http, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await http.GetAsync(new Uri(DemoUrls.ExamplePathAndQuery, UriKind.Relative), cancellationToken)
                .ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                return false;
            }

            using var body = await JsonDocument.ParseAsync(
                await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false),
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return body.RootElement.GetProperty("data").GetProperty("result").GetArrayLength() > 0;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested
            && ex is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Sends one message, retrying while the collector is busy or briefly unreachable.</summary>
    private async Task SendAsync(Collector.CollectorClient client, Records message, CancellationToken cancellationToken)
    {
        // Same process: wait for room in the ingest channel (for this and the other send in flight)
        // rather than be refused.
        var room = Math.Min(_channel.Capacity, BackfillInFlight * MaxRecordsPerMessage);
        while (_channel.Count > 0 && _channel.Count + room > _channel.Capacity)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), _time, cancellationToken).ConfigureAwait(false);
        }

        while (true)
        {
            try
            {
                await client.SendAsync(message, _headers, deadline: DateTime.UtcNow.AddSeconds(60), cancellationToken: cancellationToken)
                    .ConfigureAwait(false);
                Interlocked.Add(ref _sent, message.Entries.Count);
                return;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken).ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded
                && !cancellationToken.IsCancellationRequested)
            {
                DemoLog.SendFailed(_logger, ex.Status.Detail);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static Records Take(List<Record> buffer)
    {
        var count = Math.Min(buffer.Count, MaxRecordsPerMessage);
        var message = new Records();
        message.Entries.AddRange(buffer.GetRange(0, count));
        buffer.RemoveRange(0, count);
        return message;
    }

    private string Banner(DemoUrls urls)
    {
        var workloads = _cluster.Workloads.Count;
        var heavy = string.Join(", ", DemoTraffic.HeavyHitters.Select(h => $"{h.Source} -> {h.Destination}"));
        var text = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        text.AppendLine();
        text.AppendLine(c, $"NetObserv demo: a synthetic cluster ({_cluster.Nodes.Count} nodes, {_cluster.Namespaces.Count} namespaces, {workloads} workloads) sends its flows to the gRPC collector.");
        text.AppendLine(c, $"  Heavy hitters:  {heavy}");
        if (_options.BackfillDuration > TimeSpan.Zero)
        {
            text.AppendLine(c, $"  Backfill:       the past {_options.Backfill}, one record per {_backfillWeight} flow(s) (bytes and packets summed; flows/s reads that much lower there)");
        }

        text.AppendLine(c, $"  HTTP API:       {urls.Http.AbsoluteUri}  (Loki-compatible: /loki/api/v1/query_range, /query, /labels ...)");
        text.AppendLine(c, $"  Example query:  curl '{urls.ExampleQuery.AbsoluteUri}'");
        text.AppendLine(c, $"  gRPC ingest:    {urls.Grpc}  (pbflow.Collector/Send: point eBPF agents or `loadgen --protocol grpc` here)");
        text.AppendLine(c, $"  Grafana:        add a data source of type Loki with URL {urls.Http.AbsoluteUri.TrimEnd('/')}");
        text.AppendLine("                  (Connections > Data sources > Add new data source > Loki; from Grafana in Docker use");
        text.AppendLine(c, $"                  http://host.docker.internal:{urls.Http.Port}{(_server.IsLoopbackOnly ? ", after restarting with --listen '*'" : "")}), Save & test, then import");
        text.AppendLine("                  dashboards/netobserv-overview.json and dashboards/netobserv-workload.json.");
        text.AppendLine("Press Ctrl+C to stop.");
        return text.ToString();
    }
}
