using System.Text.RegularExpressions;
using NetObserv.Query.LogQL;

namespace NetObserv.Query.Planning;

/// <summary>
/// The line filters of a pipeline (<c>|=</c>, <c>!=</c>, <c>|~</c>, <c>!~</c>), compiled once and applied to
/// rendered lines. All filters must pass; within one filter, <c>"a" or "b"</c> means any value. Substrings
/// are compared ordinally; regexes are RE2 (translated by <see cref="Re2Regex"/>, so flags anywhere and ASCII
/// <c>\d</c>/<c>\w</c>/<c>\s</c> mean what they mean in Loki), unanchored as in Loki, and run without
/// backtracking (linear in the line, like RE2).
/// </summary>
internal sealed class LineFilter
{
    private readonly (bool Positive, string[] Values, Regex[]? Regexes)[] _filters;

    private LineFilter((bool, string[], Regex[]?)[] filters)
    {
        _filters = filters;
    }

    /// <summary>True when the pipeline has no line filter (every line passes).</summary>
    public bool IsEmpty => _filters.Length == 0;

    /// <summary>Compiles the line filter stages of <paramref name="stages"/>; a bad regex is a <see cref="QueryException"/>.</summary>
    public static LineFilter Compile(IEnumerable<PipelineStage> stages)
    {
        var filters = new List<(bool, string[], Regex[]?)>();
        foreach (var stage in stages.OfType<LineFilterStage>())
        {
            var positive = stage.Op is LineFilterOperator.Contains or LineFilterOperator.Matches;
            Regex[]? regexes = null;
            if (stage.Op is LineFilterOperator.Matches or LineFilterOperator.NotMatches)
            {
                regexes = new Regex[stage.Values.Count];
                for (var i = 0; i < regexes.Length; i++)
                {
                    try
                    {
                        regexes[i] = new Regex(Re2Regex.Parse(stage.Values[i]).ToDotNet(anchored: false),
                            RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);
                    }
                    catch (Exception ex) when (ex is ArgumentException or NotSupportedException or Re2Exception)
                    {
                        throw new QueryException($"unsupported line filter regex \"{stage.Values[i]}\" (RE2 syntax, no backreferences or lookarounds): {ex.Message}", ex);
                    }
                }
            }

            filters.Add((positive, [.. stage.Values], regexes));
        }

        return new LineFilter([.. filters]);
    }

    /// <summary>True when <paramref name="line"/> passes every filter.</summary>
    public bool Passes(ReadOnlySpan<char> line)
    {
        foreach (var (positive, values, regexes) in _filters)
        {
            var any = false;
            if (regexes is null)
            {
                foreach (var value in values)
                {
                    if (line.Contains(value, StringComparison.Ordinal))
                    {
                        any = true;
                        break;
                    }
                }
            }
            else
            {
                foreach (var regex in regexes)
                {
                    if (regex.IsMatch(line))
                    {
                        any = true;
                        break;
                    }
                }
            }

            if (any != positive)
            {
                return false;
            }
        }

        return true;
    }
}
