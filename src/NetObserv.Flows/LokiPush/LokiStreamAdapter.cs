namespace NetObserv.Flows.LokiPush;

/// <summary>
/// One stream of a Loki push request (<c>StreamAdapter</c> in Loki's protobuf): its labels and its entries,
/// as decoded from the body.
/// </summary>
public sealed class LokiStreamAdapter
{
    /// <summary>Stream labels in the order they were sent.</summary>
    public List<KeyValuePair<string, string>> Labels { get; } = [];

    /// <summary>The label set as sent in protobuf bodies (<c>{a="b"}</c>); null for JSON bodies.</summary>
    public string? LabelText { get; set; }

    /// <summary>Why the label set could not be read (every entry of the stream is then rejected), or null.</summary>
    public string? LabelError { get; private set; }

    /// <summary>The <see cref="LokiPushRejectReason"/> of <see cref="LabelError"/>.</summary>
    public string LabelRejectReason { get; private set; } = LokiPushRejectReason.InvalidLabels;

    /// <summary>Marks the label set as refused, unless it already is (the first reason is kept).</summary>
    internal void RefuseLabels(string reason, string error)
    {
        if (LabelError is null)
        {
            LabelError = error;
            LabelRejectReason = reason;
        }
    }

    /// <summary>The entries in the order they were sent.</summary>
    public List<LokiPushEntry> Entries { get; } = [];
}
