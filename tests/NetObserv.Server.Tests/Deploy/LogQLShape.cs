using System.Text.RegularExpressions;

namespace NetObserv.Server.Tests.Deploy;

/// <summary>
/// Shape checks for the LogQL the dashboards send: brackets balance outside string literals, every
/// stream selector is well formed and names only the backend's stream labels, and every Grafana
/// variable it uses exists. Not a parser: the query API's own tests own the grammar.
/// </summary>
internal static partial class LogQLShape
{
    /// <summary>The stream labels the backend exposes (DESIGN.md, Query).</summary>
    public static readonly IReadOnlySet<string> StreamLabels = new HashSet<string>(StringComparer.Ordinal)
    {
        "app", "SrcK8S_Namespace", "SrcK8S_OwnerName", "SrcK8S_Type", "DstK8S_Namespace", "DstK8S_OwnerName",
        "DstK8S_Type", "FlowDirection", "K8S_FlowLayer", "_RecordType",
    };

    /// <summary>Variables Grafana substitutes itself.</summary>
    private static readonly HashSet<string> s_builtInVariables = new(StringComparer.Ordinal)
    {
        "__interval", "__interval_ms", "__range", "__range_s", "__range_ms", "__auto", "__rate_interval",
    };

    public static List<string> Problems(string expr, IReadOnlySet<string> variables)
    {
        var problems = new List<string>();
        var open = new Stack<(char Bracket, int At)>();
        var i = 0;
        while (i < expr.Length)
        {
            var c = expr[i];
            if (c is '"' or '`')
            {
                var end = EndOfString(expr, i);
                if (end < 0)
                {
                    problems.Add($"unterminated string at {i}");
                    return problems;
                }

                i = end + 1;
                continue;
            }

            if (c is '(' or '[' or '{')
            {
                open.Push((c, i));
            }
            else if (c is ')' or ']' or '}')
            {
                var expected = c switch { ')' => '(', ']' => '[', _ => '{' };
                if (open.Count == 0 || open.Peek().Bracket != expected)
                {
                    problems.Add($"unbalanced '{c}' at {i}");
                    return problems;
                }

                var (_, at) = open.Pop();
                if (c == '}')
                {
                    CheckSelector(expr[(at + 1)..i], problems);
                }
            }

            i++;
        }

        if (open.Count > 0)
        {
            problems.Add($"unclosed '{open.Peek().Bracket}' at {open.Peek().At}");
        }

        foreach (Match variable in VariablePattern().Matches(expr))
        {
            var name = variable.Groups["braced"].Success ? variable.Groups["braced"].Value : variable.Groups["plain"].Value;
            if (!s_builtInVariables.Contains(name) && !variables.Contains(name))
            {
                problems.Add($"unknown variable ${name}");
            }
        }

        return problems;
    }

    /// <summary>The selector inside <c>label_values(selector, label)</c>, and the label.</summary>
    public static (string Selector, string Label)? ParseLabelValues(string query)
    {
        var match = LabelValuesPattern().Match(query);
        return match.Success ? (match.Groups["selector"].Value, match.Groups["label"].Value) : null;
    }

    private static void CheckSelector(string body, List<string> problems)
    {
        var matchers = SplitOutsideStrings(body, ',');
        if (matchers.Count == 0 || matchers.All(string.IsNullOrWhiteSpace))
        {
            problems.Add("empty stream selector");
            return;
        }

        foreach (var matcher in matchers)
        {
            var match = MatcherPattern().Match(matcher);
            if (!match.Success)
            {
                problems.Add($"malformed matcher '{matcher.Trim()}'");
            }
            else if (!StreamLabels.Contains(match.Groups["label"].Value))
            {
                problems.Add($"'{match.Groups["label"].Value}' is not a stream label");
            }
        }
    }

    private static List<string> SplitOutsideStrings(string text, char separator)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] is '"' or '`')
            {
                var end = EndOfString(text, i);
                i = end < 0 ? text.Length : end;
            }
            else if (text[i] == separator)
            {
                parts.Add(text[start..i]);
                start = i + 1;
            }
        }

        parts.Add(text[start..]);
        return parts;
    }

    private static int EndOfString(string text, int start)
    {
        var quote = text[start];
        for (var i = start + 1; i < text.Length; i++)
        {
            if (quote == '"' && text[i] == '\\')
            {
                i++;
            }
            else if (text[i] == quote)
            {
                return i;
            }
        }

        return -1;
    }

    [GeneratedRegex("""^\s*(?<label>[A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*$""")]
    private static partial Regex MatcherPattern();

    [GeneratedRegex(@"\$(?:\{(?<braced>[A-Za-z_][A-Za-z0-9_]*)(?::[a-z]+)?\}|(?<plain>[A-Za-z_][A-Za-z0-9_]*))")]
    private static partial Regex VariablePattern();

    [GeneratedRegex(@"^\s*label_values\(\s*(?<selector>\{.*\})\s*,\s*(?<label>[A-Za-z_][A-Za-z0-9_]*)\s*\)\s*$")]
    private static partial Regex LabelValuesPattern();
}
