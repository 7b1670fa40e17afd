namespace NetObserv.Flows.Ipfix;

/// <summary>
/// Running totals of an IPFIX / NetFlow v9 collector: packets, flow records, options records,
/// templates, and a count per <see cref="IpfixDropReason"/>. Thread-safe; read by metrics while the
/// decoder writes.
/// </summary>
public sealed class IpfixDecodeCounters
{
    private static readonly IpfixDropReason[] s_reasons = Enum.GetValues<IpfixDropReason>();
    private readonly long[] _drops = new long[s_reasons.Length];
    private long _packets;
    private long _records;
    private long _optionsRecords;
    private long _templates;

    /// <summary>Every drop reason except <see cref="IpfixDropReason.None"/>.</summary>
    public static ReadOnlySpan<IpfixDropReason> Reasons => s_reasons.AsSpan(1);

    /// <summary>Packets handed to the decoder.</summary>
    public long Packets => Interlocked.Read(ref _packets);

    /// <summary>Flow records decoded.</summary>
    public long Records => Interlocked.Read(ref _records);

    /// <summary>Options records decoded (sampler and system-init-time options).</summary>
    public long OptionsRecords => Interlocked.Read(ref _optionsRecords);

    /// <summary>Templates and options templates accepted (including refreshes).</summary>
    public long Templates => Interlocked.Read(ref _templates);

    /// <summary>How many times <paramref name="reason"/> happened.</summary>
    public long Dropped(IpfixDropReason reason) => Interlocked.Read(ref _drops[(int)reason]);

    /// <summary>Counts <paramref name="count"/> occurrences (one by default) of <paramref name="reason"/>.</summary>
    public void AddDrop(IpfixDropReason reason, int count = 1)
    {
        if (reason != IpfixDropReason.None && count > 0)
        {
            Interlocked.Add(ref _drops[(int)reason], count);
        }
    }

    internal void AddPacket() => Interlocked.Increment(ref _packets);

    internal void AddRecords(int count) => Interlocked.Add(ref _records, count);

    internal void AddOptionsRecord() => Interlocked.Increment(ref _optionsRecords);

    internal void AddTemplate() => Interlocked.Increment(ref _templates);
}
