using System.Diagnostics.Metrics;
using System.Globalization;
using Microsoft.Extensions.Options;
using NetObserv.Flows;
using NetObserv.Flows.Enrichment;
using NetObserv.Flows.Pipeline;
using NetObserv.Flows.Validation;
using NetObserv.Storage;
using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.Journal;

namespace NetObserv.Server.Ingest;

/// <summary>
/// The one ingest door: gRPC <c>Collector/Send</c>, Loki push and the IPFIX / NetFlow v9 listener hand it
/// their records, and it alone decides acknowledgement and backpressure. Transports check records with
/// its <see cref="Validator"/>; it enriches them (unless they arrive enriched), then:
/// <list type="bullet">
/// <item><c>Storage:Durability=journal</c> (default): appends the batch to the write-ahead journal and
/// answers <see cref="IngestOutcome.Accepted"/> only once that is fsynced (group commit); then offers it
/// to the channel with its position, and when the channel is full leaves it in the journal for the
/// replayer. A full journal (<c>Storage:JournalMaxBytes</c>) or a failing disk is
/// <see cref="IngestOutcome.Backpressure"/>.</item>
/// <item><c>memory</c>: the batch is accepted when the channel takes it, backpressure otherwise.</item>
/// </list>
/// UDP cannot be slowed down nor wait for a disk: <see cref="Offer"/> never waits; when the channel is full
/// a batch goes to the journal in the background (journal durability) or is dropped and counted.
/// </summary>
internal sealed class FlowIngestService
{
    private readonly FlowChannel _channel;
    private readonly IFlowEnricher[] _enrichers;
    private readonly FlowJournal? _journal;
    private readonly FlowKeyCache? _keys;
    private readonly Durability _durability;
    private long _journalRefusals;

    public FlowIngestService(FlowChannel channel, IEnumerable<IFlowEnricher> enrichers, FlowValidator validator,
        IOptions<StorageOptions> storage, IMeterFactory meterFactory, FlowJournal? journal = null,
        FlowKeyCache? keys = null)
    {
        ArgumentNullException.ThrowIfNull(storage);
        ArgumentNullException.ThrowIfNull(meterFactory);
        _channel = channel;
        _enrichers = [.. enrichers];
        Validator = validator;
        _journal = journal;
        _keys = keys;
        _durability = journal is null ? Durability.Memory : storage.Value.DurabilityMode;
        var meter = meterFactory.Create(new MeterOptions(CollectorMetrics.MeterName));
        if (journal is not null)
        {
            meter.CreateObservableGauge("netobserv.journal.bytes", () => journal.Bytes, "By",
                "Size of the write-ahead journal's segment files");
            meter.CreateObservableCounter("netobserv.journal.fsyncs", () => journal.Fsyncs, "{fsync}",
                "fsync calls of the journal (one per group of appends)");
            meter.CreateObservableCounter("netobserv.journal.appends", () => journal.Appends, "{batch}",
                "Batches appended to the journal");
            meter.CreateObservableGauge("netobserv.journal.pending_batches", () => journal.PendingBatches, "{batch}",
                "Journal batches waiting for the replayer (channel was full or database down)");
            meter.CreateObservableCounter("netobserv.journal.refusals", () => Interlocked.Read(ref _journalRefusals),
                "{batch}", "Batches refused because the journal was full or its disk failed");
        }
    }

    /// <summary>What an acknowledgement promises here.</summary>
    public Durability Durability => _durability;

    /// <summary>Checks records against what the store can hold.</summary>
    public FlowValidator Validator { get; }

    /// <summary>The ingest channel's capacity in records (no single batch may be larger).</summary>
    public int Capacity => _channel.Capacity;

    /// <summary>
    /// True when a batch of <paramref name="count"/> records would be refused now (a cheap check before a
    /// body is parsed; <see cref="AcceptAsync"/> is the authority).
    /// </summary>
    public bool IsBusy(int count)
    {
        if (_durability == Durability.Journal)
        {
            return _journal!.Bytes >= _journal.MaxBytes;
        }

        var waiting = _channel.Count;
        return count > 0 && waiting > 0 && waiting + count > _channel.Capacity;
    }

    /// <summary>Why <see cref="IngestOutcome.Backpressure"/> was answered, for the sender's error message.</summary>
    public string DescribeBusy(int count) => _durability == Durability.Journal
        ? string.Create(CultureInfo.InvariantCulture,
            $"write-ahead journal full or failing ({_journal!.Bytes} of {_journal.MaxBytes} bytes, Storage:JournalMaxBytes); batch of {count} refused, retry later")
        : string.Create(CultureInfo.InvariantCulture,
            $"ingest queue full ({_channel.Count} of {_channel.Capacity} records waiting); batch of {count} refused, retry later");

    /// <summary>
    /// Accepts <paramref name="batch"/> (the list is kept: the caller must not reuse it). Completes once the
    /// batch is as safe as <c>Storage:Durability</c> promises.
    /// </summary>
    public async Task<IngestOutcome> AcceptAsync(List<FlowRecord> batch, bool enrich)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (batch.Count == 0)
        {
            return IngestOutcome.Accepted;
        }

        if (batch.Count > _channel.Capacity)
        {
            return IngestOutcome.Invalid;
        }

        if (enrich)
        {
            Enrich(batch);
        }

        _keys?.Look(batch);
        if (_durability == Durability.Memory)
        {
            return _channel.TryWriteBatch(batch) ? IngestOutcome.Accepted : IngestOutcome.Backpressure;
        }

        long position;
        try
        {
            position = await _journal!.AppendAsync(batch, 0, batch.Count).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            position = 0;
        }

        if (position == 0)
        {
            Interlocked.Increment(ref _journalRefusals);
            return IngestOutcome.Backpressure;
        }

        if (!_channel.TryWriteBatch(batch, position))
        {
            // Channel full (or the process stopping): the batch waits in the journal for the replayer.
            _journal!.Release(position);
        }

        return IngestOutcome.Accepted;
    }

    /// <summary>
    /// UDP: offers <paramref name="batch"/> without waiting. Records the channel cannot take go to the journal
    /// in the background (journal durability); what cannot be kept is reported through
    /// <paramref name="dropped"/> (possibly later, from the journal's thread). The list is kept.
    /// </summary>
    public void Offer(List<FlowRecord> batch, Action<int> dropped)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(dropped);
        if (batch.Count == 0)
        {
            return;
        }

        Enrich(batch);
        _keys?.Look(batch);
        if (_durability == Durability.Memory)
        {
            var lost = 0;
            foreach (var record in batch)
            {
                if (!_channel.TryWrite(record))
                {
                    lost++;
                }
            }

            if (lost > 0)
            {
                dropped(lost);
            }

            return;
        }

        if (_channel.TryWriteBatch(batch))
        {
            return;
        }

        // A burst: absorbed by the journal instead of dropped; the receive loop does not wait for the disk.
        var journal = _journal!;
        _ = journal.AppendAsync(batch, 0, batch.Count).ContinueWith(static (append, state) =>
        {
            var (journal, count, dropped) = ((FlowJournal, int, Action<int>))state!;
            if (append.IsCompletedSuccessfully && append.GetAwaiter().GetResult() is > 0 and var position)
            {
                journal.Release(position);
            }
            else
            {
                dropped(count);
            }
        }, (journal, batch.Count, dropped), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private void Enrich(List<FlowRecord> batch)
    {
        foreach (var enricher in _enrichers)
        {
            foreach (var flow in batch)
            {
                enricher.Enrich(flow);
            }
        }
    }
}
