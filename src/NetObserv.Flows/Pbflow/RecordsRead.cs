namespace NetObserv.Flows.Pbflow;

/// <summary>The generated <c>pbflow.Records</c> message, with the records as <see cref="PbflowReader"/> read them.</summary>
public sealed partial class Records
{
    /// <summary>
    /// The message's records already mapped from its bytes by <see cref="PbflowReader"/> (then
    /// <see cref="Entries"/> is empty), or null when the generated parser read it. Not part of the message:
    /// it is neither serialized nor compared.
    /// </summary>
    public IReadOnlyList<PbflowReader.Entry>? Read { get; set; }

    /// <summary>When <see cref="Read"/> was mapped: the collector's clock in epoch milliseconds.</summary>
    public long ReadAtMs { get; set; }
}
