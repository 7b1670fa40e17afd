using System.Diagnostics.Metrics;

namespace NetObserv.Server.Ingest.LokiPush;

/// <summary>Counters of the Loki push endpoint (meter <c>NetObserv.LokiPush</c>).</summary>
internal sealed class LokiPushMetrics
{
    public const string MeterName = "NetObserv.LokiPush";

    private readonly Counter<long> _requests;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _throttled;

    public LokiPushMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(new MeterOptions(MeterName));
        _requests = meter.CreateCounter<long>("netobserv.lokipush.requests", "{request}",
            "Push requests answered, by HTTP status.");
        _accepted = meter.CreateCounter<long>("netobserv.lokipush.lines.accepted", "{line}",
            "Lines accepted as flow records.");
        _rejected = meter.CreateCounter<long>("netobserv.lokipush.lines.rejected", "{line}",
            "Lines rejected as invalid, by reason.");
        _throttled = meter.CreateCounter<long>("netobserv.lokipush.lines.throttled", "{line}",
            "Valid lines refused with 429 because the ingest channel was full (the client retries them).");
    }

    public void Request(int status) => _requests.Add(1, new KeyValuePair<string, object?>("status", status));

    public void Accepted(int lines) => _accepted.Add(lines);

    public void Rejected(string reason, int lines) =>
        _rejected.Add(lines, new KeyValuePair<string, object?>("reason", reason));

    public void Throttled(int lines) => _throttled.Add(lines);
}
