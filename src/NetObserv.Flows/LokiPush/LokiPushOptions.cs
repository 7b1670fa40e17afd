using System.Globalization;

namespace NetObserv.Flows.LokiPush;

/// <summary>Loki push endpoint settings (section <c>LokiPush</c>).</summary>
public sealed class LokiPushOptions
{
    public const string Section = "LokiPush";

    /// <summary>
    /// Largest request body accepted, after decompression (snappy, gzip or deflate); larger bodies are
    /// answered 413. Defaults to 64 MiB (67,108,864 bytes).
    /// </summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Longest line accepted; longer lines are rejected. Defaults to 256 KiB, Loki's <c>max_line_size</c>.</summary>
    public int MaxLineBytes { get; set; } = 256 * 1024;

    /// <summary>
    /// Most labels a stream may have; a stream with more is rejected (reason <c>max_label_names_per_series</c>)
    /// and its labels are not read further. Defaults to 30: Loki's <c>max_label_names_per_series</c> is 15,
    /// and NetObserv's flowlogs-pipeline sends up to 14 labels plus any custom static labels.
    /// </summary>
    public int MaxLabelNamesPerSeries { get; set; } = LokiLabelLimits.DefaultMaxLabelNamesPerSeries;

    /// <summary>
    /// Longest label name, in bytes; a stream with a longer one is rejected (reason <c>label_name_too_long</c>).
    /// Defaults to 1024, Loki's <c>max_label_name_length</c>.
    /// </summary>
    public int MaxLabelNameLength { get; set; } = LokiLabelLimits.DefaultMaxLabelNameLength;

    /// <summary>
    /// Longest label value, in UTF-8 bytes; a stream with a longer one is rejected (reason
    /// <c>label_value_too_long</c>). Defaults to 2048, Loki's <c>max_label_value_length</c>.
    /// </summary>
    public int MaxLabelValueLength { get; set; } = LokiLabelLimits.DefaultMaxLabelValueLength;

    /// <summary>The label limits as the decoders take them.</summary>
    public LokiLabelLimits LabelLimits => new(MaxLabelNamesPerSeries, MaxLabelNameLength, MaxLabelValueLength);

    /// <summary>How many rejected lines a 400 answer describes (all are counted). Defaults to 5.</summary>
    public int MaxReportedErrors { get; set; } = 5;

    /// <summary>Tenant of requests without an <c>X-Scope-OrgID</c> header. Defaults to <c>default</c>.</summary>
    public string DefaultTenant { get; set; } = FlowRecord.DefaultTenant;

    /// <summary>Every problem with these settings (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxBodyBytes < 1024)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Section}:MaxBodyBytes must be at least 1024 (was {MaxBodyBytes})"));
        }

        RequirePositive(errors, nameof(MaxLineBytes), MaxLineBytes);
        RequirePositive(errors, nameof(MaxLabelNamesPerSeries), MaxLabelNamesPerSeries);
        RequirePositive(errors, nameof(MaxLabelNameLength), MaxLabelNameLength);
        RequirePositive(errors, nameof(MaxLabelValueLength), MaxLabelValueLength);

        if (MaxReportedErrors is < 0 or > 1000)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Section}:MaxReportedErrors must be between 0 and 1000 (was {MaxReportedErrors})"));
        }

        if (!LokiPushTenant.IsValid(DefaultTenant))
        {
            errors.Add($"{Section}:DefaultTenant \"{DefaultTenant}\" is not a valid tenant ID");
        }

        return errors;
    }

    private static void RequirePositive(List<string> errors, string key, int value)
    {
        if (value < 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{Section}:{key} must be positive (was {value})"));
        }
    }
}
