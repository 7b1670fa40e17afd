using System.Text;

namespace NetObserv.Query.Planning;

/// <summary>A series' labels, sorted by name, without empty values (an empty label is an absent label).</summary>
internal sealed class LabelSet : IEquatable<LabelSet>
{
    public static readonly LabelSet Empty = new([]);

    private LabelSet(KeyValuePair<string, string>[] pairs)
    {
        Pairs = pairs;
        var sb = new StringBuilder();
        foreach (var (name, value) in pairs)
        {
            sb.Append(name).Append('\u0001').Append(value).Append('\u0002');
        }

        Key = sb.ToString();
    }

    public IReadOnlyList<KeyValuePair<string, string>> Pairs { get; }

    /// <summary>A string that is equal for equal label sets (also their sort order).</summary>
    public string Key { get; }

    public static LabelSet From(IEnumerable<KeyValuePair<string, string>> pairs) =>
        new(pairs.Where(p => p.Value.Length > 0).GroupBy(p => p.Key, StringComparer.Ordinal)
            .Select(g => g.Last()).OrderBy(p => p.Key, StringComparer.Ordinal).ToArray());

    public string? Get(string name)
    {
        foreach (var (n, v) in Pairs)
        {
            if (n == name)
            {
                return v;
            }
        }

        return null;
    }

    /// <summary>Only the named labels (<c>by</c>) or all but them (<c>without</c>).</summary>
    public LabelSet Group(bool without, IReadOnlyCollection<string> names) =>
        From(Pairs.Where(p => names.Contains(p.Key) != without));

    public bool Equals(LabelSet? other) => other is not null && other.Key == Key;

    public override bool Equals(object? obj) => Equals(obj as LabelSet);

    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Key);
}
