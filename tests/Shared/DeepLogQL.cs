using System.Text;

namespace NetObserv.Testing;

/// <summary>
/// Deeply nested LogQL (issue 10, "Crash"): at the issue's sizes each once overflowed the stack of the
/// parser or formatter and killed the process. <see cref="Build"/> makes one of any depth;
/// <see cref="RejectedAt"/> is where a parser with a depth limit reports it: the token that opens the
/// level past the limit.
/// </summary>
public static class DeepLogQL
{
    /// <summary>The shapes and the sizes the issue reported.</summary>
    public static readonly IReadOnlyDictionary<string, int> IssueSizes = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["parentheses"] = 10_000,
        ["addition"] = 20_000,
        ["label-or"] = 50_000,
        ["sum"] = 5_000,
        ["unary-minus"] = 50_000,
    };

    /// <summary>The shape names, for theories.</summary>
    public static TheoryData<string> Shapes => new(IssueSizes.Keys);

    /// <summary>A query of the given shape with <paramref name="count"/> nested levels (or chained terms).</summary>
    public static string Build(string shape, int count) => shape switch
    {
        "parentheses" => new string('(', count) + "vector(1)" + new string(')', count),
        "addition" => string.Join('+', Enumerable.Repeat("1", count)),
        "label-or" => "{app=\"netobserv-flowcollector\"} | " + string.Join(" or ", Enumerable.Repeat("Proto=\"6\"", count)),
        "sum" => Repeat("sum(", count) + "vector(1)" + new string(')', count),
        "unary-minus" => Repeat("- ", count) + "1",
        _ => throw new ArgumentOutOfRangeException(nameof(shape), shape, null),
    };

    /// <summary>The 0-based offset where the level past <paramref name="limit"/> opens in <see cref="Build"/>'s text.</summary>
    public static int RejectedAt(string shape, int count, int limit)
    {
        var text = Build(shape, count);
        var (marker, skip) = shape switch
        {
            "parentheses" => ("(", 0),
            "addition" => ("+", 0),
            "label-or" => (" or ", 1),
            "sum" => ("sum", 0),
            _ => ("-", 0),
        };
        var at = -1;
        for (var i = 0; i <= limit; i++)
        {
            at = text.IndexOf(marker, at + 1, StringComparison.Ordinal);
        }

        return at + skip;
    }

    /// <summary>The Loki-style 1-based column of a 0-based offset in a one-line query.</summary>
    public static string Position(int offset) => "parse error at line 1, col " + (offset + 1).ToString(System.Globalization.CultureInfo.InvariantCulture) + ":";

    private static string Repeat(string part, int count) => new StringBuilder(part.Length * count).Insert(0, part, count).ToString();
}
