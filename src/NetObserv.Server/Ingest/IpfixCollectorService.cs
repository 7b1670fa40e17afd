using System.Buffers;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Threading.Channels;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Ipfix;
using NetObserv.Flows.Validation;
using NetObserv.Server.Hosting;

namespace NetObserv.Server.Ingest;

/// <summary>
/// The IPFIX (Server:IpfixPort) and NetFlow v9 (Server:NetflowPort) collector: UDP listeners feed one
/// bounded packet queue; one decode loop owns the decoder and its template cache, drops (and counts by
/// reason, <c>netobserv.ingest.records.rejected{transport=ipfix}</c>) each flow the store cannot hold (see
/// <see cref="FlowValidator"/>) and offers the others to the <see cref="FlowIngestService"/> without waiting, in
/// one batch for the packets waiting at that moment (at most <see cref="OfferRecords"/> records): when the channel is full the batch goes to the journal
/// (journal durability) or is dropped and counted (<c>channel_full</c>). The receive loops never wait on
/// the database. Sockets are bound in
/// <see cref="StartAsync"/>, so a port in use fails startup with a clear error.
/// </summary>
internal sealed class IpfixCollectorService : IHostedService, IDisposable
{
    private readonly ServerOptions _server;
    private readonly IpfixOptions _options;
    private readonly FlowIngestService _ingest;
    private readonly FlowValidator _validator;
    private readonly CollectorMetrics _metrics;
    private readonly Action<int> _dropped;
    private readonly ILogger<IpfixCollectorService> _logger;
    private readonly Channel<UdpPacket> _queue;
    private readonly IpfixDecoder _decoder;
    private readonly List<(string Protocol, UdpFlowListener Listener)> _listeners = [];
    private readonly List<Task> _loops = [];
    private CancellationTokenSource? _stopping;

    /// <summary>A batch is offered once it holds this many records (or when no packet is waiting).</summary>
    internal const int OfferRecords = 4096;

    /// <summary>The protocol name of the IPFIX listener (<see cref="EndPointOf"/>).</summary>
    public const string IpfixProtocol = "IPFIX";

    /// <summary>The protocol name of the NetFlow v9 listener (<see cref="EndPointOf"/>).</summary>
    public const string NetflowProtocol = "NetFlow v9";

    public IpfixCollectorService(IOptions<ServerOptions> server, IOptions<IpfixOptions> options, FlowIngestService ingest,
        CollectorMetrics metrics, IMeterFactory meterFactory,
        ILogger<IpfixCollectorService> logger, IServiceProvider services)
    {
        _server = server.Value;
        _options = options.Value;
        _ingest = ingest;
        _validator = ingest.Validator;
        _metrics = metrics;
        _logger = logger;
        _queue = Channel.CreateBounded<UdpPacket>(new BoundedChannelOptions(_options.QueueCapacity)
        {
            SingleReader = true,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails when full: the listener drops and counts
        });
        Counters = new IpfixDecodeCounters();
        _decoder = new IpfixDecoder(new IpfixDecoderOptions
        {
            TemplateLifetime = _options.TemplateLifetime,
            DefaultSampling = _options.DefaultSampling,
            MaxExporters = _options.MaxExporters,
        }, services.GetService<TimeProvider>() ?? TimeProvider.System, Counters);
        _ = new IpfixMetrics(meterFactory, Counters, () => _queue.Reader.Count,
            () => _listeners.Sum(l => l.Listener.KernelDrops));
        _dropped = count => Counters.AddDrop(IpfixDropReason.ChannelFull, count);
    }

    /// <summary>Packets, records and drops by reason.</summary>
    public IpfixDecodeCounters Counters { get; }

    /// <summary>The bound local endpoints (after start).</summary>
    public IReadOnlyList<IPEndPoint> EndPoints => _listeners.ConvertAll(l => l.Listener.LocalEndPoint);

    /// <summary>The first endpoint bound for <c>IPFIX</c> or <c>NetFlow v9</c>, null when that port is off.</summary>
    public IPEndPoint? EndPointOf(string protocol) =>
        _listeners.Find(l => l.Protocol == protocol).Listener?.LocalEndPoint;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var addresses = ListenAddresses(_server.ListenAddress);
        var ports = new List<(int Port, string Protocol)>();
        if (_server.IpfixPort != 0)
        {
            ports.Add((_server.IpfixPort, IpfixProtocol));
        }

        // One socket serves both when they share a port (the decoder tells them apart by version);
        // two "any free port" settings are two sockets.
        if (_server.NetflowPort != 0 && (_server.NetflowPort < 0 || _server.NetflowPort != _server.IpfixPort))
        {
            ports.Add((_server.NetflowPort, NetflowProtocol));
        }

        try
        {
            foreach (var (port, protocol) in ports)
            {
                foreach (var address in addresses)
                {
                    var listener = UdpFlowListener.Bind(address, ListenerEndpoints.Bindable(port),
                        _options.ReceiveBufferBytes, _queue.Writer, Counters, _logger);
                    _listeners.Add((protocol, listener));
                    IpfixLog.Listening(_logger, protocol, listener.LocalEndPoint);
                }
            }
        }
        catch (SocketException e)
        {
            DisposeListeners();
            throw new InvalidOperationException(
                $"cannot bind the IPFIX/NetFlow UDP ports ({string.Join(", ", ports.ConvertAll(p => p.Port))}) on " +
                $"'{_server.ListenAddress}': {e.Message}", e);
        }

        if (_listeners.Count == 0)
        {
            return Task.CompletedTask;
        }

        _stopping = new CancellationTokenSource();
        var token = _stopping.Token;
        foreach (var (_, listener) in _listeners)
        {
            _loops.Add(Task.Run(() => listener.RunAsync(token), CancellationToken.None));
        }

        _loops.Add(Task.Run(() => DecodeLoopAsync(token), CancellationToken.None));
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stopping is null)
        {
            return;
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        DisposeListeners();
        _queue.Writer.TryComplete();
        try
        {
            await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task DecodeLoopAsync(CancellationToken cancellationToken)
    {
        var records = new List<FlowRecord>(256);
        var batch = new List<FlowRecord>(OfferRecords);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false))
            {
                // The packets waiting now make one batch (up to OfferRecords records): in a burst the ingest
                // door, the channel and the journal see a few large batches instead of one per datagram.
                while (_queue.Reader.TryRead(out var packet))
                {
                    Process(packet, records, batch);
                    if (batch.Count >= OfferRecords)
                    {
                        batch = Offer(batch);
                    }
                }

                batch = Offer(batch);
            }
        }
        catch (OperationCanceledException)
        {
        }

        Offer(batch);

        // Packets still queued at shutdown go back to the pool.
        while (_queue.Reader.TryRead(out var left))
        {
            ArrayPool<byte>.Shared.Return(left.Buffer);
        }
    }

    /// <summary>Hands <paramref name="batch"/> to the ingest door (which keeps it) and returns a new empty list.</summary>
    private List<FlowRecord> Offer(List<FlowRecord> batch)
    {
        if (batch.Count == 0)
        {
            return batch;
        }

        try
        {
            _ingest.Offer(batch, _dropped);
        }
        catch (Exception e)
        {
            // An enricher fault must not stop the collector.
            IpfixLog.OfferFailed(_logger, batch.Count, e);
        }

        return new List<FlowRecord>(OfferRecords);
    }

    /// <summary>Decodes <paramref name="packet"/> into <paramref name="records"/> and adds the valid ones to <paramref name="batch"/>.</summary>
    private void Process(UdpPacket packet, List<FlowRecord> records, List<FlowRecord> batch)
    {
        records.Clear();
        try
        {
            var result = _decoder.Decode(packet.Buffer.AsSpan(0, packet.Length), packet.Exporter, records);
            if (!result.IsClean)
            {
                IpfixLog.PacketDropped(_logger, packet.Exporter, result.Reason, result.Offset, result.Records);
            }

            var nowMs = _validator.NowMs();
            var invalid = new InvalidRecordTally(stackalloc int[InvalidRecordTally.Slots]);
            foreach (var record in records)
            {
                var rejection = _validator.Validate(record, nowMs);
                if (rejection.IsRejected)
                {
                    invalid.Add(rejection);
                    continue;
                }

                batch.Add(record);
            }

            invalid.Report(_metrics, _logger, CollectorMetrics.Ipfix, records.Count);
        }
        catch (Exception e)
        {
            // One bad packet must not stop the collector.
            IpfixLog.DecodeFailed(_logger, packet.Exporter, e);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(packet.Buffer);
        }
    }

    private static List<IPAddress> ListenAddresses(string listen)
    {
        if (listen is "*" or "" or "any")
        {
            return [Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any];
        }

        if (listen is "localhost")
        {
            return [IPAddress.Loopback];
        }

        return [IPAddress.Parse(listen)];
    }

    private void DisposeListeners()
    {
        foreach (var (_, listener) in _listeners)
        {
            listener.Dispose();
        }
    }

    public void Dispose()
    {
        DisposeListeners();
        _stopping?.Dispose();
    }
}
