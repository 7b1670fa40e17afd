namespace NetObserv.Flows.Validation;

/// <summary>
/// Why a decoded flow was refused at the edge (see <see cref="FlowValidator"/>). The names in
/// <see cref="FlowValidator.ReasonName"/> are the <c>reason</c> tag of the rejection counters and of push
/// answers.
/// </summary>
public enum FlowRejectReason
{
    /// <summary>The flow can be stored.</summary>
    None = 0,

    /// <summary>A text field is longer than its cap in <see cref="FlowLimits"/> (<c>text_too_long</c>).</summary>
    TextTooLong,

    /// <summary>More interfaces than <see cref="FlowLimits.MaxInterfaces"/> (<c>too_many_interfaces</c>).</summary>
    TooManyInterfaces,

    /// <summary>
    /// A port, protocol, direction, ethertype, DSCP, ICMP, flag, DNS or MAC value outside its range, or a
    /// value the decoder could not represent (<c>value_out_of_range</c>).
    /// </summary>
    ValueOutOfRange,

    /// <summary>
    /// A byte, packet or drop counter, a latency or an RTT that is negative or past <see cref="long.MaxValue"/>,
    /// alone or multiplied by the sampling interval (<c>counter_out_of_range</c>).
    /// </summary>
    CounterOutOfRange,

    /// <summary>A flow time older than the retention window (<c>too_old</c>).</summary>
    TooOld,

    /// <summary>A flow time further in the future than the allowed clock skew (<c>too_far_in_future</c>).</summary>
    TooFarInFuture,

    /// <summary>The flow starts after it ends (<c>start_after_end</c>).</summary>
    StartAfterEnd,
}
