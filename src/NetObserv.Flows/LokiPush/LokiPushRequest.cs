namespace NetObserv.Flows.LokiPush;

/// <summary>A decoded Loki push body (JSON or protobuf): its streams in order.</summary>
public sealed class LokiPushRequest
{
    public List<LokiStreamAdapter> Streams { get; } = [];

    /// <summary>Entries over all streams.</summary>
    public int EntryCount
    {
        get
        {
            var n = 0;
            foreach (var stream in Streams)
            {
                n += stream.Entries.Count;
            }

            return n;
        }
    }
}
