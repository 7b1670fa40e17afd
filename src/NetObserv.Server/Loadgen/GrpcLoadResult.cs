namespace NetObserv.Server.Loadgen;

/// <summary>
/// The outcome of a gRPC load run. Counts are in flows (records): <see cref="Sent"/> were offered in a
/// <c>Send</c>, <see cref="Acknowledged"/> came back OK, <see cref="Refused"/> were answered
/// <c>RESOURCE_EXHAUSTED</c>, <see cref="Failed"/> got any other error.
/// </summary>
internal sealed record GrpcLoadResult(long Sent, long Acknowledged, long Refused, long Failed, long Sends,
    TimeSpan Elapsed, double[] AcknowledgedSendMilliseconds)
{
    /// <summary>Acknowledged flows per second over the run.</summary>
    public double AcknowledgedPerSecond => Elapsed > TimeSpan.Zero ? Acknowledged / Elapsed.TotalSeconds : 0;

    /// <summary>The <paramref name="percentile"/> (0..100) of acknowledged <c>Send</c> latencies in milliseconds.</summary>
    public double SendMilliseconds(double percentile)
    {
        if (AcknowledgedSendMilliseconds.Length == 0)
        {
            return double.NaN;
        }

        var sorted = (double[])AcknowledgedSendMilliseconds.Clone();
        Array.Sort(sorted);
        var rank = (int)Math.Ceiling(percentile / 100 * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }
}
