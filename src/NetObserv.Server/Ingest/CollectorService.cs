using Grpc.Core;
using NetObserv.Flows;
using NetObserv.Flows.Enrichment;
using NetObserv.Flows.Pbflow;
using NetObserv.Flows.Pipeline;

namespace NetObserv.Server.Ingest;

/// <summary>
/// <c>pbflow.Collector/Send</c>: maps the agent's records, enriches them, and hands the whole batch
/// to the ingest channel. A batch is accepted whole or refused whole: when the channel cannot take
/// it, the call fails at once with <c>RESOURCE_EXHAUSTED</c> and nothing of it is kept. A body that
/// is not a valid <c>pbflow.Records</c> fails with <c>INVALID_ARGUMENT</c> (see
/// <see cref="CollectorMethodProvider"/>, which binds this class to the generated messages).
/// </summary>
internal sealed class CollectorService
{
    private static readonly Task<CollectorReply> s_reply = Task.FromResult(new CollectorReply());

    private readonly FlowChannel _channel;
    private readonly IFlowEnricher[] _enrichers;
    private readonly TimeProvider _time;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger<CollectorService> _logger;

    public CollectorService(FlowChannel channel, IEnumerable<IFlowEnricher> enrichers, TimeProvider time,
        CollectorMetrics metrics, ILogger<CollectorService> logger)
    {
        _channel = channel;
        _enrichers = [.. enrichers];
        _time = time;
        _metrics = metrics;
        _logger = logger;
    }

    public Task<CollectorReply> Send(Records request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var count = request.Entries.Count;
        _metrics.Received(count);
        if (count == 0)
        {
            return s_reply;
        }

        // Cheap early refusal before any mapping work; TryWriteBatch below is the authority.
        var waiting = _channel.Count;
        if (waiting > 0 && waiting + count > _channel.Capacity)
        {
            throw Busy(count);
        }

        var batch = new FlowRecord[count];
        PbflowMapper.MapAll(request, _time.GetUtcNow().ToUnixTimeSeconds(), batch);
        foreach (var enricher in _enrichers)
        {
            foreach (var flow in batch)
            {
                enricher.Enrich(flow);
            }
        }

        return _channel.TryWriteBatch(batch) ? s_reply : throw Busy(count);
    }

    /// <summary>
    /// Refuses at once, before the body is parsed, a batch of <paramref name="count"/> records that cannot
    /// fit in the channel now (the parse of a refused batch would only take CPU from the writer).
    /// </summary>
    public void RefuseIfNoRoom(int count)
    {
        var waiting = _channel.Count;
        if (count > 0 && waiting > 0 && waiting + count > _channel.Capacity)
        {
            _metrics.Received(count);
            throw Busy(count);
        }
    }

    private RpcException Busy(int count)
    {
        _metrics.RejectedBusy(count);
        var waiting = _channel.Count;
        CollectorLog.Busy(_logger, count, waiting, _channel.Capacity);
        return new RpcException(new Status(StatusCode.ResourceExhausted,
            $"ingest queue full ({waiting} of {_channel.Capacity} records waiting); batch of {count} refused, retry later"));
    }
}
