namespace NetObserv.Flows.Ipfix;

/// <summary>
/// The outcome of decoding one packet: how many flow records were produced, and the first problem met
/// (with the byte offset where it was found). A packet can yield records and still report a reason,
/// when a later set was malformed or had no template.
/// </summary>
/// <param name="Records">Flow records appended to the output.</param>
/// <param name="Reason">The first drop reason met, or <see cref="IpfixDropReason.None"/>.</param>
/// <param name="Offset">Byte offset of the problem within the packet (0 when none).</param>
/// <param name="Version">The message version (9 or 10), or 0 when the header could not be read.</param>
public readonly record struct IpfixDecodeResult(int Records, IpfixDropReason Reason, int Offset, int Version)
{
    /// <summary>True when nothing in the packet was dropped.</summary>
    public bool IsClean => Reason == IpfixDropReason.None;
}
