using System.Globalization;
using System.Text;

namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Loki's limits on a stream's label set (<c>max_label_names_per_series</c>, <c>max_label_name_length</c>,
/// <c>max_label_value_length</c>), checked while the labels are read so a hostile label set costs time and
/// memory in proportion to the limits, not to its size. Lengths are in UTF-8 bytes, as Loki counts them.
/// A stream over a limit is rejected with its reason (<see cref="LokiPushRejectReason"/>).
/// </summary>
public sealed record LokiLabelLimits(int MaxLabelNamesPerSeries, int MaxLabelNameLength, int MaxLabelValueLength)
{
    /// <summary>
    /// Loki's default is 15. NetObserv's flowlogs-pipeline sends up to 14 (8 default label fields, <c>app</c>,
    /// and <c>_RecordType</c>, <c>K8S_ClusterName</c>, two zones and <c>UdnId</c> when those features are on),
    /// plus any custom static labels: 30 leaves room for those and still bounds the work per stream.
    /// </summary>
    public const int DefaultMaxLabelNamesPerSeries = 30;

    /// <summary>Loki's default <c>max_label_name_length</c>.</summary>
    public const int DefaultMaxLabelNameLength = 1024;

    /// <summary>Loki's default <c>max_label_value_length</c>.</summary>
    public const int DefaultMaxLabelValueLength = 2048;

    /// <summary>Below this many labels, duplicates are found by scanning; above, with a hash set.</summary>
    private const int ScanLimit = 16;

    /// <summary>The defaults.</summary>
    public static LokiLabelLimits Default { get; } =
        new(DefaultMaxLabelNamesPerSeries, DefaultMaxLabelNameLength, DefaultMaxLabelValueLength);

    /// <summary>
    /// Why a label set that already holds <paramref name="count"/> labels cannot take one more, or null.
    /// </summary>
    internal string? TooMany(int count) =>
        count < MaxLabelNamesPerSeries
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"more than {MaxLabelNamesPerSeries} label names (limit {MaxLabelNamesPerSeries})");

    /// <summary>Why a label name (ASCII, so one byte a character) is refused, or null.</summary>
    internal string? NameTooLong(ReadOnlySpan<char> name) =>
        name.Length <= MaxLabelNameLength
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"label name {Shorten(name)} of {name.Length} bytes is too long (limit {MaxLabelNameLength})");

    /// <summary>Why the value of label <paramref name="name"/> is refused, or null.</summary>
    internal string? ValueTooLong(string name, ReadOnlySpan<char> value)
    {
        // A char is at most 3 UTF-8 bytes (a surrogate pair is 4 for 2 chars), and at least 1.
        if (value.Length <= MaxLabelValueLength / 3)
        {
            return null;
        }

        var bytes = Encoding.UTF8.GetByteCount(value);
        return bytes <= MaxLabelValueLength
            ? null
            : string.Create(CultureInfo.InvariantCulture,
                $"value of label {Shorten(name)} of {bytes} bytes is too long (limit {MaxLabelValueLength})");
    }

    /// <summary>
    /// True when <paramref name="labels"/> already has <paramref name="name"/>. Scans short lists; past
    /// <see cref="ScanLimit"/> labels keeps <paramref name="names"/> (created on first need) in step with the
    /// list, so a long label set costs linear time. Call it before each add, in order.
    /// </summary>
    internal static bool IsDuplicate(List<KeyValuePair<string, string>> labels, ref HashSet<string>? names,
        string name)
    {
        if (labels.Count < ScanLimit)
        {
            foreach (var label in labels)
            {
                if (label.Key == name)
                {
                    return true;
                }
            }

            return false;
        }

        if (names is null)
        {
            names = new HashSet<string>(labels.Count * 2, StringComparer.Ordinal);
            foreach (var label in labels)
            {
                names.Add(label.Key);
            }
        }

        return !names.Add(name);
    }

    private static string Shorten(ReadOnlySpan<char> text) =>
        text.Length <= 40 ? text.ToString() : string.Concat(text[..40], "...");
}
