using System.Globalization;

namespace NetObserv.Server.Demo;

/// <summary>The demo run (section <c>Demo</c>; flags <c>--demo</c> and <c>--demo-backfill</c>).</summary>
internal sealed class DemoOptions
{
    public const string Section = "Demo";

    /// <summary>Run a synthetic cluster whose traffic goes through the gRPC ingest. Defaults to false.</summary>
    public bool Enabled { get; set; }

    /// <summary>
    /// History to fill at start, as a duration (<c>24h</c>, <c>90m</c>, <c>2d</c>, <c>1h30m</c>, or
    /// <c>hh:mm:ss</c>). Defaults to none.
    /// </summary>
    public string? Backfill { get; set; }

    /// <summary>Live flows per second at the busiest hour of the day (the quietest hour has a third). Defaults to 200.</summary>
    public double PeakFlowsPerSecond { get; set; } = 200;

    /// <summary>
    /// Most records the backfill writes; beyond that one backfilled record stands for several flows
    /// (their bytes and packets summed) so any history loads in well under a minute. Defaults to 300,000.
    /// </summary>
    public int BackfillRecordBudget { get; set; } = 300_000;

    /// <summary>Nodes of the synthetic cluster. Defaults to 6.</summary>
    public int Nodes { get; set; } = 6;

    /// <summary>Seed of the synthetic cluster and its traffic. Defaults to 1.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>The parsed <see cref="Backfill"/> (zero when unset).</summary>
    public TimeSpan BackfillDuration => TryParseDuration(Backfill, out var value) ? value : TimeSpan.Zero;

    /// <summary>Every configuration error, empty when the options are valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!string.IsNullOrWhiteSpace(Backfill) && !TryParseDuration(Backfill, out _))
        {
            errors.Add($"{Section}:Backfill '{Backfill}' is not a duration (examples: 24h, 90m, 2d, 1h30m).");
        }

        if (PeakFlowsPerSecond is <= 0 or > 1_000_000 || double.IsNaN(PeakFlowsPerSecond))
        {
            errors.Add($"{Section}:PeakFlowsPerSecond must be between 0 and 1,000,000 (was {PeakFlowsPerSecond}).");
        }

        if (BackfillRecordBudget < 1_000)
        {
            errors.Add($"{Section}:BackfillRecordBudget must be at least 1,000 (was {BackfillRecordBudget}).");
        }

        if (Nodes is < 1 or > 200)
        {
            errors.Add($"{Section}:Nodes must be between 1 and 200 (was {Nodes}).");
        }

        return errors;
    }

    /// <summary>
    /// Parses <c>24h</c>, <c>90m</c>, <c>2d</c>, <c>1h30m</c>, <c>45s</c>, <c>1w</c> or a <see cref="TimeSpan"/>
    /// (<c>hh:mm:ss</c>, <c>d.hh:mm:ss</c>). Empty means zero. False when the text is none of these or negative.
    /// </summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        text = text.Trim();
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration) && duration >= TimeSpan.Zero;
        }

        var i = 0;
        long totalSeconds = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i]))
            {
                i++;
            }

            if (start == i || i == text.Length || i - start > 9)
            {
                return false;
            }

            var number = long.Parse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture);
            long unit = char.ToLowerInvariant(text[i]) switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                'w' => 604_800,
                _ => 0,
            };
            if (unit == 0)
            {
                return false;
            }

            totalSeconds += number * unit;
            i++;
        }

        duration = TimeSpan.FromSeconds(totalSeconds);
        return true;
    }
}
