namespace NetObserv.Storage;

/// <summary>How the <c>flows</c> table is partitioned in time.</summary>
public enum StorageMode
{
    /// <summary>Native PostgreSQL range partitions per day, created and dropped by the backend.</summary>
    Native,

    /// <summary>A TimescaleDB hypertable with compression and retention policies.</summary>
    TimescaleDb,
}
