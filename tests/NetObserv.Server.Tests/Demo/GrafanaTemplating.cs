using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace NetObserv.Server.Tests.Demo;

/// <summary>
/// What Grafana does to a Loki target before it reaches the datasource: template variables (multi-value
/// and <c>All</c> as the Loki datasource formats them) and the built-in interval and range variables for
/// a time range and a panel width.
/// </summary>
internal static partial class GrafanaTemplating
{
    /// <summary>Panel width Grafana turns into max data points.</summary>
    public const int PanelWidthPixels = 1000;

    /// <summary>Grafana's interval for a range and a number of points, rounded as <c>rangeutil.roundInterval</c> does.</summary>
    public static long IntervalMs(long rangeMs, int maxDataPoints = PanelWidthPixels) => RoundInterval(rangeMs / maxDataPoints);

    /// <summary>The Loki datasource's step for a range query: max(interval, range / 11,000), whole milliseconds.</summary>
    public static long StepMs(long rangeMs) => Math.Max(IntervalMs(rangeMs), (long)Math.Ceiling(rangeMs / 11_000.0));

    /// <summary>
    /// Substitutes <c>$name</c> / <c>${name}</c> with <paramref name="values"/> (already formatted) and the
    /// built-ins <c>$__interval</c>, <c>$__interval_ms</c>, <c>$__range</c>, <c>$__range_s</c>,
    /// <c>$__range_ms</c>, <c>$__rate_interval</c> and <c>$__auto</c> (the step for a range query, the
    /// whole range for an instant one).
    /// </summary>
    public static string Interpolate(string expr, IReadOnlyDictionary<string, string> values, long rangeMs, bool instant)
    {
        var intervalMs = IntervalMs(rangeMs);
        var rangeS = (long)Math.Round(rangeMs / 1000.0);
        var builtins = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["__interval_ms"] = intervalMs.ToString(CultureInfo.InvariantCulture),
            ["__interval"] = Duration(intervalMs),
            ["__range_ms"] = rangeMs.ToString(CultureInfo.InvariantCulture),
            ["__range_s"] = rangeS.ToString(CultureInfo.InvariantCulture),
            ["__range"] = rangeS.ToString(CultureInfo.InvariantCulture) + "s",
            ["__rate_interval"] = Duration(Math.Max(intervalMs + 15_000, 4 * 15_000)),
            ["__auto"] = instant ? rangeS.ToString(CultureInfo.InvariantCulture) + "s" : Duration(StepMs(rangeMs)),
        };
        return VariablePattern().Replace(expr, m =>
        {
            var name = m.Groups["braced"].Success ? m.Groups["braced"].Value : m.Groups["plain"].Value;
            if (builtins.TryGetValue(name, out var builtin))
            {
                return builtin;
            }

            return values.TryGetValue(name, out var value)
                ? value
                : throw new InvalidOperationException($"variable ${name} in '{expr}' has no value");
        });
    }

    /// <summary>
    /// A variable's value as the Loki datasource writes it into a query: <c>All</c> becomes the declared
    /// custom all value (or every value as an alternation); several values are regex-escaped (inside a
    /// LogQL string, so backslashes doubled) and joined as <c>(a|b)</c>; a single value of a plain variable
    /// is written as it is.
    /// </summary>
    public static string Format(JsonObject variable, IReadOnlyList<string> selected, IReadOnlyList<string> options, bool all)
    {
        var multi = variable["multi"]?.GetValue<bool>() == true || variable["includeAll"]?.GetValue<bool>() == true;
        if (all)
        {
            var custom = variable["allValue"]?.GetValue<string>();
            return !string.IsNullOrEmpty(custom) ? custom : Format(variable, options, options, all: false);
        }

        if (!multi)
        {
            return selected.Single().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
        }

        var escaped = selected.Select(EscapeRegex).ToList();
        return escaped.Count == 1 ? escaped[0] : "(" + string.Join("|", escaped) + ")";
    }

    /// <summary>Grafana's <c>lokiSpecialRegexEscape</c>: regex metacharacters escaped with a doubled backslash.</summary>
    public static string EscapeRegex(string value)
    {
        var text = new StringBuilder();
        foreach (var c in value)
        {
            if (c == '\\')
            {
                text.Append(@"\\\\");
            }
            else if ("$^*{}[]+?.()|".Contains(c, StringComparison.Ordinal))
            {
                text.Append(@"\\").Append(c);
            }
            else
            {
                text.Append(c);
            }
        }

        return text.ToString();
    }

    /// <summary>Grafana's interval rounding (<c>rangeutil.roundInterval</c>), in milliseconds.</summary>
    public static long RoundInterval(long ms) => ms switch
    {
        < 15 => 10,
        < 35 => 20,
        < 75 => 50,
        < 150 => 100,
        < 350 => 200,
        < 750 => 500,
        < 1_500 => 1_000,
        < 3_500 => 2_000,
        < 7_500 => 5_000,
        < 12_500 => 10_000,
        < 17_500 => 15_000,
        < 25_000 => 20_000,
        < 45_000 => 30_000,
        < 90_000 => 60_000,
        < 210_000 => 120_000,
        < 450_000 => 300_000,
        < 1_050_000 => 600_000,
        < 2_100_000 => 900_000,
        < 5_400_000 => 1_800_000,
        < 9_000_000 => 3_600_000,
        < 16_200_000 => 7_200_000,
        < 32_400_000 => 10_800_000,
        < 86_400_000 => 21_600_000,
        < 604_800_000 => 86_400_000,
        < 1_814_400_000 => 604_800_000,
        < 3_628_800_000 => 2_592_000_000,
        _ => 31_536_000_000,
    };

    /// <summary>A duration as Grafana writes an interval: <c>5s</c>, <c>1m</c>, <c>500ms</c>.</summary>
    public static string Duration(long ms) =>
        ms % 3_600_000 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ms / 3_600_000}h")
        : ms % 60_000 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ms / 60_000}m")
        : ms % 1_000 == 0 ? string.Create(CultureInfo.InvariantCulture, $"{ms / 1_000}s")
        : string.Create(CultureInfo.InvariantCulture, $"{ms}ms");

    [GeneratedRegex(@"\$\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|\$(?<plain>[A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex VariablePattern();
}
