using NetObserv.Flows;

namespace NetObserv.Storage.Dictionaries;

/// <summary>
/// The store's cache of dictionary ids (endpoints, contexts, rollup keys), one per process, shared by the
/// writer loops and the ingest door.
/// </summary>
public sealed class FlowKeyCache
{
    internal FlowDictionaries Dictionaries { get; } = new();

    /// <summary>
    /// Sets <see cref="FlowRecord.KeyIds"/> of the records whose keys the cache knows by identity. Called
    /// once a batch will not change any more and before the writer can see it; a record not looked up (or
    /// looked up before the cache was cleared) is resolved by the writer as usual.
    /// </summary>
    public void Look(IReadOnlyList<FlowRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        Dictionaries.Look(records);
    }
}
