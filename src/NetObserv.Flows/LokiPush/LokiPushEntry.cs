namespace NetObserv.Flows.LokiPush;

/// <summary>
/// One log entry of a pushed stream. <see cref="Line"/> is the UTF-8 line; it may point into the
/// request buffer, so it is read before that buffer is released. <see cref="Error"/> is set when the
/// entry itself could not be read (a timestamp that is not a nanosecond epoch, for instance).
/// </summary>
public readonly record struct LokiPushEntry(long TimestampNs, ReadOnlyMemory<byte> Line, string? Error = null);
