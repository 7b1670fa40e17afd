using System.Threading.Channels;

namespace NetObserv.Flows.Pipeline;

/// <summary>
/// The bounded hand-off between every ingest transport (gRPC, IPFIX/NetFlow UDP, Loki push) and the
/// batch writer. Transports that can push back on their sender (gRPC, HTTP) use
/// <see cref="TryWriteBatch"/> and answer "busy" when it fails; UDP cannot wait, so it drops and counts.
/// Nothing accepted here is lost: the writer drains it on shutdown. Records travel in the batches they
/// were accepted in, each with its write-ahead journal position (0 when it was not journaled), so the
/// writer can record in the database which journal batches it committed.
/// </summary>
public sealed class FlowChannel
{
    /// <summary>Default capacity in records (<c>Storage:ChannelCapacity</c> with the memory durability).</summary>
    public const int DefaultCapacity = 200_000;

    private readonly Channel<FlowBatch> _channel;
    private readonly int _capacity;
    private long _accepted;
    private long _rejected;
    private int _count;

    public FlowChannel(int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;

        // Capacity is enforced by _count so a whole batch is accepted or refused at once; the
        // underlying channel is unbounded and never refuses a write.
        _channel = Channel.CreateUnbounded<FlowBatch>(new UnboundedChannelOptions
        {
            SingleReader = false,
            SingleWriter = false,
        });
    }

    /// <summary>The capacity in records.</summary>
    public int Capacity => _capacity;

    /// <summary>Records waiting for the writer.</summary>
    public int Count => Volatile.Read(ref _count);

    /// <summary>Records accepted since start.</summary>
    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>Records refused because the channel was full.</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>The earliest flow end times accepted lately, for caches of past answers.</summary>
    public IngestWatermark Watermark { get; } = new();

    /// <summary>
    /// Accepts every record of the batch, or none when they do not all fit (the caller then tells
    /// its sender to back off). A batch larger than <see cref="Capacity"/> never fits, even in an empty
    /// channel: the caller refuses it for good rather than as busy. Returns false when refused.
    /// </summary>
    public bool TryWriteBatch(IReadOnlyList<FlowRecord> records, long position = 0)
    {
        ArgumentNullException.ThrowIfNull(records);
        var n = records.Count;
        if (n == 0)
        {
            return true;
        }

        while (true)
        {
            var current = Volatile.Read(ref _count);
            if (n > _capacity || (current + n > _capacity && current > 0))
            {
                Interlocked.Add(ref _rejected, n);
                return false;
            }

            if (Interlocked.CompareExchange(ref _count, current + n, current) == current)
            {
                break;
            }
        }

        if (!_channel.Writer.TryWrite(new FlowBatch(records, position)))
        {
            // Only after Complete(): the process is stopping.
            Interlocked.Add(ref _count, -n);
            Interlocked.Add(ref _rejected, n);
            return false;
        }

        Interlocked.Add(ref _accepted, n);
        Watermark.Accepted(records);
        return true;
    }

    /// <summary>Accepts one record if there is room (UDP collectors: drop and count otherwise).</summary>
    public bool TryWrite(FlowRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (Interlocked.Increment(ref _count) > _capacity || !_channel.Writer.TryWrite(new FlowBatch([record], 0)))
        {
            Interlocked.Decrement(ref _count);
            Interlocked.Increment(ref _rejected);
            return false;
        }

        Interlocked.Increment(ref _accepted);
        Watermark.Accepted(record.TimeFlowEndMs);
        return true;
    }

    /// <summary>
    /// Takes whole waiting batches into <paramref name="into"/> while it holds fewer than
    /// <paramref name="max"/> records taken here (the last batch may go past it). Returns how many records
    /// were taken.
    /// </summary>
    public int Drain(List<FlowRecord> into, int max) => Drain(into, null, max);

    /// <summary>
    /// As <see cref="Drain(List{FlowRecord}, int)"/>, and adds, for each batch taken, its journal position (0
    /// when it has none) with the index in <paramref name="into"/> where its records end.
    /// </summary>
    public int Drain(List<FlowRecord> into, List<(long Position, int End)>? positions, int max)
    {
        ArgumentNullException.ThrowIfNull(into);
        var taken = 0;
        while (taken < max && _channel.Reader.TryRead(out var batch))
        {
            into.AddRange(batch.Records);
            taken += batch.Records.Count;
            positions?.Add((batch.Position, into.Count));
        }

        if (taken > 0)
        {
            Interlocked.Add(ref _count, -taken);
        }

        return taken;
    }

    /// <summary>Waits until a record is available; false once the channel is completed and empty.</summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken) =>
        _channel.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>No more records will be accepted; the writer drains what is left.</summary>
    public void Complete() => _channel.Writer.TryComplete();
}
