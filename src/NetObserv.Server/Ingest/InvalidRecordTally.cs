using NetObserv.Flows.Validation;

namespace NetObserv.Server.Ingest;

/// <summary>
/// The records of one gRPC message or one IPFIX / NetFlow packet that failed validation, tallied by
/// reason on the stack and reported once: a counter per reason and one Debug line naming the first.
/// </summary>
internal ref struct InvalidRecordTally
{
    /// <summary>Slots for a tally: one per <see cref="FlowRejectReason"/>, <c>None</c> included.</summary>
    public static int Slots => FlowValidator.Reasons.Length + 1;

    private readonly Span<int> _dropped;
    private FlowRejection _first;

    /// <param name="dropped">Zeroed storage of <see cref="Slots"/> counts (<c>stackalloc</c>).</param>
    public InvalidRecordTally(Span<int> dropped) => _dropped = dropped;

    /// <summary>Counts one rejected record.</summary>
    public void Add(FlowRejection rejection)
    {
        _dropped[(int)rejection.Reason]++;
        if (!_first.IsRejected)
        {
            _first = rejection;
        }
    }

    /// <summary>Adds the counts to the metrics and logs them, when any record of the <paramref name="records"/> was dropped.</summary>
    public readonly void Report(CollectorMetrics metrics, ILogger logger, string transport, int records)
    {
        if (!_first.IsRejected)
        {
            return;
        }

        var total = 0;
        for (var reason = 1; reason < _dropped.Length; reason++)
        {
            if (_dropped[reason] > 0)
            {
                metrics.Invalid(transport, (FlowRejectReason)reason, _dropped[reason]);
                total += _dropped[reason];
            }
        }

        CollectorLog.Invalid(logger, transport, total, records, _first.ReasonName, _first);
    }
}
