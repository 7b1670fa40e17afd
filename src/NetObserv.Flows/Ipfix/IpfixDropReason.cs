namespace NetObserv.Flows.Ipfix;

/// <summary>Why (part of) an IPFIX or NetFlow v9 packet was not turned into flows.</summary>
public enum IpfixDropReason
{
    /// <summary>Nothing was dropped.</summary>
    None = 0,

    /// <summary>The packet is shorter than its message header.</summary>
    TruncatedHeader,

    /// <summary>The version field is neither 10 (IPFIX) nor 9 (NetFlow v9).</summary>
    UnknownVersion,

    /// <summary>The IPFIX message length is below the header size or past the end of the packet.</summary>
    BadMessageLength,

    /// <summary>A set header is truncated, or its length is below 4 or past the end of the message.</summary>
    BadSetLength,

    /// <summary>A template or options template record is malformed (truncated, zero-length, absurd field count, bad scope).</summary>
    BadTemplate,

    /// <summary>The exporter already has as many templates as allowed; the new template was not kept.</summary>
    TemplateLimit,

    /// <summary>A data set arrived before its template (or after the template expired or was withdrawn).</summary>
    MissingTemplate,

    /// <summary>A data record runs past the end of its set (a variable-length field too long).</summary>
    BadRecord,

    /// <summary>A data record's octet or packet count is past 2^63 - 1; that record alone was dropped.</summary>
    CounterOutOfRange,

    /// <summary>The receive queue between the socket and the decoder was full.</summary>
    QueueFull,

    /// <summary>The flow channel to the writer was full.</summary>
    ChannelFull,
}
