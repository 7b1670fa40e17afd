namespace NetObserv.Flows.LokiPush;

/// <summary>
/// What one push request turned into: the flow records to store, and the lines that were rejected (counted
/// by reason, the first few described).
/// </summary>
public sealed class LokiPushBatch
{
    private readonly int _maxErrors;

    /// <param name="maxErrors">How many rejection messages to keep (the count is always complete).</param>
    public LokiPushBatch(int maxErrors = 5)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxErrors);
        _maxErrors = maxErrors;
    }

    /// <summary>The records read from good lines, in request order.</summary>
    public List<FlowRecord> Records { get; } = [];

    /// <summary>Lines rejected in total.</summary>
    public int Rejected { get; private set; }

    /// <summary>Rejected lines by <see cref="LokiPushRejectReason"/>.</summary>
    public Dictionary<string, int> RejectedByReason { get; } = new(StringComparer.Ordinal);

    /// <summary>Descriptions of the first rejected lines.</summary>
    public List<string> Errors { get; } = [];

    /// <summary>Lines read (accepted and rejected).</summary>
    public int Lines => Records.Count + Rejected;

    internal void Reject(string reason, int count, string message)
    {
        Rejected += count;
        RejectedByReason[reason] = RejectedByReason.GetValueOrDefault(reason) + count;
        if (Errors.Count < _maxErrors)
        {
            Errors.Add(message);
        }
    }
}
