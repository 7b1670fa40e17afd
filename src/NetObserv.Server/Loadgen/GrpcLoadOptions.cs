using System.Globalization;

namespace NetObserv.Server.Loadgen;

/// <summary>Settings of a gRPC load run (<c>loadgen --protocol grpc</c>).</summary>
internal sealed record GrpcLoadOptions
{
    /// <summary>Collector address: <c>host:port</c> (h2c) or an <c>http://</c> / <c>https://</c> URL.</summary>
    public required string Target { get; init; }

    /// <summary>Flows per second to offer; null sends as fast as the collector acknowledges.</summary>
    public double? Rate { get; init; }

    /// <summary>How long to send. Defaults to 10 seconds.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Records per <c>Send</c>. Defaults to 1,000 (the agent sends up to 10,000).</summary>
    public int FlowsPerMessage { get; init; } = 1000;

    /// <summary>Sends in flight at once. Defaults to 4.</summary>
    public int Concurrency { get; init; } = 4;

    /// <summary>Sampling interval written in each record. Defaults to 1 (every packet).</summary>
    public int Sampling { get; init; } = 1;

    /// <summary>Seed of the synthetic cluster and its traffic. Defaults to 1.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The collector URL for <see cref="Target"/>.</summary>
    public Uri Address => Target.Contains("://", StringComparison.Ordinal)
        ? new Uri(Target)
        : new Uri("http://" + Target);

    /// <summary>
    /// Parses a duration: <c>500ms</c>, <c>30s</c>, <c>5m</c>, <c>1h</c>, a plain number of seconds, or
    /// <c>hh:mm:ss</c>. Returns false when it is none of these or not positive.
    /// </summary>
    public static bool TryParseDuration(string text, out TimeSpan duration)
    {
        ArgumentNullException.ThrowIfNull(text);
        duration = default;
        var (number, scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.Ordinal) => (text[..^2], 0.001),
            _ when text.EndsWith('s') => (text[..^1], 1.0),
            _ when text.EndsWith('m') => (text[..^1], 60.0),
            _ when text.EndsWith('h') => (text[..^1], 3600.0),
            _ => (text, 1.0),
        };
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
        {
            duration = TimeSpan.FromSeconds(value * scale);
        }
        else if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration))
        {
            return false;
        }

        return duration > TimeSpan.Zero;
    }
}
