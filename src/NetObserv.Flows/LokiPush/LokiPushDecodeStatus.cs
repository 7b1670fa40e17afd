namespace NetObserv.Flows.LokiPush;

/// <summary>Outcome of reading a push body.</summary>
public enum LokiPushDecodeStatus
{
    /// <summary>The body was read.</summary>
    Ok,

    /// <summary>The body, once decompressed, is larger than allowed (HTTP 413).</summary>
    TooLarge,

    /// <summary>The body is not a valid push request (HTTP 400).</summary>
    Invalid,
}
