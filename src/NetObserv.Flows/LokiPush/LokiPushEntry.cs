namespace NetObserv.Flows.LokiPush;

/// <summary>
/// One log entry of a pushed stream. <see cref="Line"/> is the UTF-8 line; it may point into the
/// request buffer, so it is read before that buffer is released. <see cref="Error"/> is set when the
/// entry itself could not be read (a timestamp that is not a nanosecond epoch, for instance).
/// <see cref="Metadata"/> is the entry's structured metadata (name and value pairs), null when it has none;
/// at most <see cref="MaxMetadata"/> pairs are kept; <see cref="MetadataDropped"/> counts the pairs past that bound
/// (and, in JSON, values that are not strings), which are dropped.
/// </summary>
public readonly record struct LokiPushEntry(long TimestampNs, ReadOnlyMemory<byte> Line, string? Error = null,
    IReadOnlyList<KeyValuePair<string, string>>? Metadata = null, int MetadataDropped = 0)
{
    /// <summary>Structured metadata pairs kept per entry; later ones are dropped and counted.</summary>
    public const int MaxMetadata = 64;
}
