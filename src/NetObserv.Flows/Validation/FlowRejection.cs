using System.Globalization;

namespace NetObserv.Flows.Validation;

/// <summary>
/// The first reason a flow cannot be stored: the <see cref="FlowRejectReason"/>, the field (its NetObserv
/// name), the value found and the limit it broke. Allocation-free until <see cref="ToString"/> describes it.
/// </summary>
/// <param name="Reason">Why; <see cref="FlowRejectReason.None"/> when the flow is valid.</param>
/// <param name="Field">The NetObserv field name (<c>SrcK8S_Namespace</c>).</param>
/// <param name="Value">The value found: a length in bytes, a count, a number or a Unix millisecond time.</param>
/// <param name="Limit">The limit broken: the largest length, count or number, or the bounding time.</param>
public readonly record struct FlowRejection(FlowRejectReason Reason, string? Field, Int128 Value, Int128 Limit)
{
    /// <summary>True when the flow was refused.</summary>
    public bool IsRejected => Reason != FlowRejectReason.None;

    /// <summary>The reason as a counter tag (<c>text_too_long</c>).</summary>
    public string ReasonName => FlowValidator.ReasonName(Reason);

    /// <summary>One line for a client: which field, what was found, what is allowed.</summary>
    public override string ToString() => Reason switch
    {
        FlowRejectReason.None => "valid",
        FlowRejectReason.TextTooLong => Format($"{Field} is {Value} bytes long, more than {Limit}"),
        FlowRejectReason.TooManyInterfaces => Format($"{Field} has {Value} entries, more than {Limit}"),
        FlowRejectReason.ValueOutOfRange or FlowRejectReason.CounterOutOfRange =>
            Format($"{Field} {Value} is outside 0..{Limit}"),
        FlowRejectReason.TooOld => Format(
            $"{Field} {Value} is before {Time(Limit)}, the start of the retention window (Storage:Retention)"),
        FlowRejectReason.TooFarInFuture => Format(
            $"{Field} {Value} is after {Time(Limit)}, now plus the allowed clock skew (Ingest:MaxFutureSkew)"),
        FlowRejectReason.StartAfterEnd => Format($"{Field} {Value} is after TimeFlowEndMs {Limit}"),
        _ => Reason.ToString(),
    };

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Time(Int128 unixMs)
    {
        // A window bound past what a date can show (a retention of millennia) is shown at the date's limit.
        var min = DateTimeOffset.MinValue.ToUnixTimeMilliseconds();
        var max = DateTimeOffset.MaxValue.ToUnixTimeMilliseconds();
        return DateTimeOffset.FromUnixTimeMilliseconds((long)Int128.Clamp(unixMs, min, max))
            .ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
    }
}
