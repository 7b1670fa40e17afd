namespace NetObserv.Storage;

/// <summary>What an acknowledgement of ingest promises (<see cref="StorageOptions.Durability"/>).</summary>
public enum Durability
{
    /// <summary>Acknowledged batches are in the fsynced write-ahead journal: they survive a process crash.</summary>
    Journal,

    /// <summary>Acknowledged batches are in memory (the ingest channel) until the writer commits them.</summary>
    Memory,
}
