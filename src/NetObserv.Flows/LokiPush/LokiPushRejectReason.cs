namespace NetObserv.Flows.LokiPush;

/// <summary>Why a pushed line was not stored (the <c>reason</c> tag of the rejected-lines counter).</summary>
public static class LokiPushRejectReason
{
    /// <summary>The stream's label set could not be read; every entry of the stream is rejected.</summary>
    public const string InvalidLabels = "invalid_labels";

    /// <summary>The stream has more labels than <c>LokiPush:MaxLabelNamesPerSeries</c>; all its entries are rejected.</summary>
    public const string MaxLabelNamesPerSeries = "max_label_names_per_series";

    /// <summary>A label name is longer than <c>LokiPush:MaxLabelNameLength</c>; all the stream's entries are rejected.</summary>
    public const string LabelNameTooLong = "label_name_too_long";

    /// <summary>A label value is longer than <c>LokiPush:MaxLabelValueLength</c>; all the stream's entries are rejected.</summary>
    public const string LabelValueTooLong = "label_value_too_long";

    /// <summary>A label names a flow field the line lacks, and its value does not fit the field.</summary>
    public const string InvalidLabelValue = "invalid_label_value";

    /// <summary>The entry's timestamp or line has the wrong type or is out of range.</summary>
    public const string InvalidEntry = "invalid_entry";

    /// <summary>The line is longer than the configured maximum.</summary>
    public const string LineTooLong = "line_too_long";

    /// <summary>The line is not a JSON object, or a known field has a value of the wrong type.</summary>
    public const string InvalidLine = "invalid_line";

    /// <summary>The line is a JSON object without any flow field (no times, addresses, protocol or counters).</summary>
    public const string NotFlowRecord = "not_flow_record";
}
