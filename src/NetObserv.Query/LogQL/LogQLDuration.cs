using System.Globalization;

namespace NetObserv.Query.LogQL;

/// <summary>Prometheus-style durations: <c>1h30m</c>, <c>5m30s</c>, <c>15000ms</c>, <c>1.5s</c>, <c>2d</c>, <c>1w</c>, <c>1y</c>.</summary>
internal static class LogQLDuration
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        var i = 0;
        double totalMs = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (start == i || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.AllowDecimalPoint,
                CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            var unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i]))
            {
                i++;
            }

            double unitMs = text.AsSpan(unitStart, i - unitStart) switch
            {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 604_800_000,
                "y" => 31_536_000_000,
                "us" or "µs" => 0.001,
                "ns" => 0.000001,
                _ => -1,
            };
            if (unitMs < 0)
            {
                return false;
            }

            totalMs += number * unitMs;
        }

        if (!(totalMs < TimeSpan.MaxValue.TotalMilliseconds))
        {
            return false;
        }

        duration = TimeSpan.FromMilliseconds(totalMs);
        return true;
    }

    /// <summary>Formats as Prometheus does (<c>1h30m</c>, <c>500ms</c>).</summary>
    public static string Format(TimeSpan duration)
    {
        var ms = (long)duration.TotalMilliseconds;
        if (ms == 0)
        {
            return "0s";
        }

        var sb = new System.Text.StringBuilder();
        Append(sb, ref ms, 86_400_000, "d");
        Append(sb, ref ms, 3_600_000, "h");
        Append(sb, ref ms, 60_000, "m");
        Append(sb, ref ms, 1_000, "s");
        Append(sb, ref ms, 1, "ms");
        return sb.ToString();
    }

    private static void Append(System.Text.StringBuilder sb, ref long ms, long unit, string suffix)
    {
        if (ms >= unit)
        {
            sb.Append((ms / unit).ToString(CultureInfo.InvariantCulture)).Append(suffix);
            ms %= unit;
        }
    }
}
