using System.Globalization;
using CsCheck;
using NetObserv.Query.LogQL;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.LogQL;

/// <summary>
/// Property-based fuzzing of the LogQL parser (issue 10, "Fuzzing"): for random token soups, mutations of
/// valid queries and nesting around <see cref="LogQLParser.MaxDepth"/>, the parser returns a tree or throws
/// <see cref="LogQLParseException"/>, nothing else; and a tree printed by <see cref="LogQLFormatter"/> (the
/// result cache key) parses back to the same tree, so two different queries never share a key. Each input
/// comes from its own fixed seed, so a run is reproducible; <c>NETOBSERV_FUZZ_ITERATIONS</c> sets how many
/// inputs each generator makes (by default 2,000, and 200 of the large deep ones: a few seconds in all) and
/// <c>NETOBSERV_FUZZ_SEED</c> shifts the seeds.
/// </summary>
public sealed class LogQLParserFuzzTests
{
    private static readonly string[] s_validQueries =
    [
        "{a=\"1\", b!=\"2\", c=~\"x|y\", d!~`raw\\d`}",
        "{SrcK8S_Namespace=~\"a|b\\\\.c\"}",
        "{a=\"1\"} |= \"x\" or \"y\" != \"z\" |~ \"r.*\" !~ \"s\"",
        "{a=\"1\"} | json | Bytes > 100 and Proto == 6, DstPort != 53 or SrcK8S_Namespace=~\"ns-.*\" | __error__=\"\"",
        "{a=\"1\"} | (x=\"1\" or y=\"2\") and z=\"3\"",
        "topk(50,(quantile_over_time(0.9,{a=\"1\"}|~`\"TimeFlowRttNs\"`|json|unwrap TimeFlowRttNs|__error__=\"\"[30s]) by(x,y))/1000000)",
        "stddev_over_time({a=\"1\"}|unwrap Bytes[1m]) + stdvar_over_time({a=\"1\"}|unwrap Bytes[1m]) - first_over_time({a=\"1\"}|unwrap Bytes[1m]) * last_over_time({a=\"1\"}|unwrap Bytes[1m])",
        "{a=\"1\"} | json | SrcAddr=ip(\"10.0.0.0/8\") or DstAddr!=ip(\"fd00::1-fd00::9\") | json=ip(\"1.2.3.4\")",
        "rate({a=\"1\"} |= \"x\" [5m30s])",
        "sum_over_time({a=\"1\"}|json|unwrap Bytes|__error__=\"\"[300s])",
        "count_over_time({a=\"1\"}[1m] | json | b=\"2\")",
        "rate({a=\"1\"}[${__range}])",
        "sum by (x, y) (rate({a=\"1\"}[1m]))",
        "sum(rate({a=\"1\"}[1m])) by (x, y)",
        "topk(100, sum by(SrcK8S_Namespace) (sum_over_time({a=\"1\"}|json|unwrap Bytes[300s])))",
        "sum by (level, detected_level) (count_over_time({app=\"netobserv-flowcollector\"} | drop __error__[60s]))",
        "1 + 2 * vector(3) - 4 / 2",
        "(1 + 2) * -3",
        "vector(1)+vector(1)",
        "topk(5, sum by (a) (rate({x=\"1\", y=~\"a|b\\\\.c\"} |= \"q\" | json | n > 3 or m != \"z\" | drop k | unwrap Bytes [5m]))) * 2",
        "bottomk(3, avg without (b) (max_over_time({a=\"x\"} | Bytes >= -1.5e3 | unwrap Packets [1h])))",
        "-(count(bytes_rate({a=\"1\"} | Proto=6 | DstPort<=443 [$__auto])) % 0x1F)",
        "{a=\"1\"} | (json=\"1\") | (drop > 2 or unwrap=~\"u\") | logfmt=\"\"",
    ];

    private static readonly string[] s_tokens =
    [
        "{", "}", "(", ")", "[", "]", "[5m]", "[1.5m]", "[0s]", "[$__interval]", ",", "=", "!=", "=~", "!~", "==", ">",
        ">=", "<", "<=", "|", "|=", "|~", "|>", "!>", "+", "-", "*", "/", "%", "^", "\"x\"", "\"\"", "\"a|b\"",
        "\"(\"", "\"\\u00e9\"", "\"\\ud800\"", "\"\\U0010ffff\"", "\"\\U99999999\"", "\"\\q\"", "\"\\", "\"", "`r`",
        "`", "app", "a", "Bytes", "json", "drop", "unwrap", "logfmt", "or", "and", "bool", "on", "by", "without",
        "offset", "ip", "sum", "avg", "min", "max", "count", "topk", "bottomk", "rate", "count_over_time",
        "bytes_rate", "sum_over_time", "avg_over_time", "quantile_over_time", "vector", "1", "0", "-1", "1.5",
        "1e3", "1e999", "1e-400", "0x1F", "0x", "99999999999999999999", "NaN", "Inf", "$__auto", "$x", "#c\n",
        " ", "\n", "\t", "é", "\0",
    ];

    private static int Iterations(int byDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("NETOBSERV_FUZZ_ITERATIONS"), NumberStyles.None,
            CultureInfo.InvariantCulture, out var n) && n > 0 ? n : byDefault;

    private static ulong FirstSeed =>
        ulong.TryParse(Environment.GetEnvironmentVariable("NETOBSERV_FUZZ_SEED"), NumberStyles.None,
            CultureInfo.InvariantCulture, out var n) ? n : 0;

    /// <summary>Checks one input per seed <c>FirstSeed</c>.. of <paramref name="stream"/>: fixed inputs, replayable by seed.</summary>
    private static void Fuzz(Gen<string> gen, uint stream, int iterations = 2_000)
    {
        var first = FirstSeed;
        for (var i = 0UL; i < (ulong)Iterations(iterations); i++)
        {
            gen.Sample(query => ParsesOrRejects(query), seed: new PCG(stream, first + i).ToString(), iter: 1, threads: 1);
        }
    }

    private static void ParsesOrRejects(string query)
    {
        LogQLExpr expr;
        try
        {
            expr = LogQLParser.Parse(query);
        }
        catch (LogQLParseException)
        {
            return;
        }

        var formatted = LogQLFormatter.Format(expr);
        if (formatted.Contains("Infinity", StringComparison.Ordinal))
        {
            // A number beyond double's range (1e999) prints as .NET's "Infinity", which is no LogQL: the one
            // tree the formatter does not promise to print as parseable text.
            return;
        }

        var again = LogQLParser.Parse(formatted);
        Assert.Equal(LogQLTree.Dump(expr), LogQLTree.Dump(again));
    }

    [Fact]
    public void Parse_TokenSoup_ReturnsTreeOrParseError()
    {
        var gen = Gen.Select(Gen.OneOf(s_tokens).Array[0, 40], Gen.OneOf("", " "),
            (parts, separator) => string.Join(separator, parts));

        Fuzz(gen, stream: 1);
    }

    [Fact]
    public void Parse_MutatedValidQuery_ReturnsTreeOrParseError()
    {
        var mutation = Gen.Select(Gen.Int[0, 4], Gen.Int[0, 10_000], Gen.Int[1, 8], Gen.OneOf(s_tokens));
        var gen = Gen.Select(Gen.OneOf(s_validQueries), mutation.Array[1, 6], Mutate);

        Fuzz(gen, stream: 2);
    }

    [Fact]
    public void Parse_NestingAroundTheLimit_ReturnsTreeOrParseError()
    {
        var shapes = DeepLogQL.IssueSizes.Keys.ToArray();
        var deep = Gen.Select(Gen.OneOf(shapes), Gen.Int[LogQLParser.MaxDepth - 3, LogQLParser.MaxDepth + 3],
            DeepLogQL.Build);
        var wrapped = Gen.Select(Gen.OneOf("(", "sum(", "- ", "1 + "), Gen.Int[LogQLParser.MaxDepth - 3, LogQLParser.MaxDepth + 1],
            Gen.OneOf(s_validQueries), (open, depth, inner) => Wrap(open, depth, inner));

        Fuzz(Gen.OneOf<string>(deep, wrapped), stream: 3, iterations: 200);
    }

    private static string Wrap(string open, int depth, string inner)
    {
        var close = open.EndsWith('(') ? ")" : "";
        return string.Concat(Enumerable.Repeat(open, depth)) + inner + string.Concat(Enumerable.Repeat(close, depth));
    }

    private static string Mutate(string query, (int Kind, int At, int Length, string Token)[] mutations)
    {
        var text = query;
        foreach (var (kind, at, length, token) in mutations)
        {
            var i = text.Length == 0 ? 0 : at % text.Length;
            var n = Math.Min(length, text.Length - i);
            text = kind switch
            {
                0 => text.Remove(i, n),
                1 => text.Insert(i, token),
                2 => text.Insert(i, text.Substring(i, n)),
                3 when n > 0 => text.Remove(i, n).Insert(i, token),
                _ => text.Insert(i, token + token),
            };
        }

        return text;
    }
}
