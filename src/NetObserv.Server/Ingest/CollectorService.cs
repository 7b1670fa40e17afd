using System.Buffers;
using Grpc.Core;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Pbflow;
using NetObserv.Flows.Validation;
using NetObserv.Query.Access;

namespace NetObserv.Server.Ingest;

/// <summary>
/// <c>pbflow.Collector/Send</c>: maps the agent's records, drops (and counts by reason) those the store
/// cannot hold (see <see cref="FlowValidator"/>) and hands the rest to the <see cref="FlowIngestService"/>,
/// which enriches, journals and enqueues them. The valid records of a batch are accepted together or
/// refused together: the reply is sent only once the door has accepted them (with the journal durability:
/// once they are fsynced), and on backpressure (journal full, or with the memory durability the channel
/// full) the call fails at once with <c>RESOURCE_EXHAUSTED</c> and nothing of it is kept. A message with
/// more records than <see cref="IngestOptions.MaxRecordsPerMessage"/> or than the channel's capacity is
/// refused with <c>RESOURCE_EXHAUSTED</c> before it is parsed. A body that is not a valid
/// <c>pbflow.Records</c> fails with <c>INVALID_ARGUMENT</c> (see <see cref="CollectorMethodProvider"/>,
/// which binds this class to the generated messages).
/// </summary>
internal sealed class CollectorService
{
    private static readonly CollectorReply s_reply = new();

    private readonly FlowIngestService _ingest;
    private readonly FlowValidator _validator;
    private readonly int _maxRecords;
    private readonly CollectorMetrics _metrics;
    private readonly ILogger<CollectorService> _logger;

    public CollectorService(FlowIngestService ingest, IOptions<IngestOptions> options, CollectorMetrics metrics,
        ILogger<CollectorService> logger)
    {
        _ingest = ingest;
        _validator = ingest.Validator;
        _maxRecords = Math.Min(options.Value.MaxRecordsPerMessage, ingest.Capacity);
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>
    /// Maps and validates the records here, synchronously, and awaits the door in <see cref="AcceptAsync"/>,
    /// which holds only the batch: the request (the reader's entries, or the generated message's objects when
    /// the generated parser read it) is garbage once mapped, so it dies young instead of being promoted while
    /// the batch waits for its journal sync.
    /// </summary>
    public Task<CollectorReply> Send(Records request, ServerCallContext context)
    {
        try
        {
            var batch = Map(request, context);
            return batch is null ? Task.FromResult(s_reply) : AcceptAsync(batch);
        }
        catch (RpcException ex)
        {
            return Task.FromException<CollectorReply>(ex);
        }
    }

    private async Task<CollectorReply> AcceptAsync(List<FlowRecord> batch) =>
        await _ingest.AcceptAsync(batch, enrich: true).ConfigureAwait(false) switch
        {
            IngestOutcome.Accepted => s_reply,
            IngestOutcome.Invalid => throw TooMany(batch.Count),
            _ => throw Busy(batch.Count),
        };

    /// <summary>
    /// Reads a well-formed message's records straight from its bytes (<see cref="PbflowReader"/>); null when
    /// the generated parser must read it.
    /// </summary>
    public Records? TryRead(ReadOnlySequence<byte> payload, int count)
    {
        var nowMs = _validator.NowMs();
        List<PbflowReader.Entry>? read;
        if (payload.IsSingleSegment)
        {
            read = PbflowReader.TryRead(payload.FirstSpan, count, nowMs / 1000);
        }
        else
        {
            var length = checked((int)payload.Length);
            var copy = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                payload.CopyTo(copy);
                read = PbflowReader.TryRead(copy.AsSpan(0, length), count, nowMs / 1000);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        }

        return read is null ? null : new Records { Read = read, ReadAtMs = nowMs };
    }

    private List<FlowRecord>? Map(Records request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        var entries = request.Entries;
        var read = request.Read;
        var count = read?.Count ?? entries.Count;
        _metrics.Received(count);
        if (count == 0)
        {
            return null;
        }

        // The outline check before parsing is the usual refusal; this one covers callers that bypass it.
        if (count > _maxRecords)
        {
            throw TooMany(count);
        }

        // Cheap early refusal before any mapping work; the door below is the authority.
        if (_ingest.IsBusy(count))
        {
            throw Busy(count);
        }

        var nowMs = read is null ? _validator.NowMs() : request.ReadAtMs;
        var receivedSeconds = nowMs / 1000;
        var batch = new List<FlowRecord>(count);
        var invalid = new InvalidRecordTally(stackalloc int[InvalidRecordTally.Slots]);
        for (var i = 0; i < count; i++)
        {
            FlowRecord? flow;
            FlowRejection rejection;
            if (read is null)
            {
                flow = PbflowMapper.TryMap(entries[i], receivedSeconds, out rejection);
            }
            else
            {
                (flow, rejection) = read[i];
            }

            if (flow is not null)
            {
                rejection = _validator.Validate(flow, nowMs);
            }

            if (rejection.IsRejected)
            {
                invalid.Add(rejection);
                continue;
            }

            batch.Add(flow!);
        }

        invalid.Report(_metrics, _logger, CollectorMetrics.Grpc, count);

        // A bearer token may send to a tenant of its own (see GrpcIngestAuthMiddleware); else the default.
        if (context.GetHttpContext() is { } http && FlowAccess.Get(http) is { } access)
        {
            foreach (var flow in batch)
            {
                flow.Tenant = access.Tenants[0];
            }
        }

        return batch;
    }

    /// <summary>
    /// Refuses at once, before the body is parsed, a batch of <paramref name="count"/> records that is larger
    /// than allowed or cannot fit in the channel now (the parse of a refused batch would only take memory and
    /// CPU from the writer).
    /// </summary>
    public void RefuseBeforeParsing(int count)
    {
        if (count > _maxRecords)
        {
            _metrics.Received(count);
            throw TooMany(count);
        }

        if (_ingest.IsBusy(count))
        {
            _metrics.Received(count);
            throw Busy(count);
        }
    }

    private RpcException TooMany(int count)
    {
        _metrics.RejectedTooMany(count);
        CollectorLog.TooMany(_logger, count, _maxRecords);
        var limit = _maxRecords < _ingest.Capacity
            ? $"{IngestOptions.Section}:{nameof(IngestOptions.MaxRecordsPerMessage)} ({_maxRecords})"
            : $"the ingest channel's capacity (Storage:ChannelCapacity, {_maxRecords})";
        return new RpcException(new Status(StatusCode.ResourceExhausted,
            $"message of {count} records refused: more than {limit}; send smaller messages"));
    }

    private RpcException Busy(int count)
    {
        _metrics.RejectedBusy(count);
        var reason = _ingest.DescribeBusy(count);
        CollectorLog.Busy(_logger, reason);
        return new RpcException(new Status(StatusCode.ResourceExhausted, reason));
    }
}
