namespace NetObserv.Storage.Copy;

/// <summary>What a failed write of flow rows means for them (<see cref="WriteErrorClassifier"/>).</summary>
internal enum WriteErrorClass
{
    /// <summary>
    /// The database cannot be reached or cannot take writes now: the rows are retried, and after
    /// <see cref="StorageOptions.SpillAfter"/> go to the spill journal.
    /// </summary>
    Unavailable,

    /// <summary>
    /// A passing conflict (deadlock, serialization failure, lock or statement timeout, a partition
    /// dropped under the writer): the rows are retried in memory, a few times, then treated as
    /// <see cref="Data"/>.
    /// </summary>
    Transient,

    /// <summary>
    /// The database (or the client encoding the rows) refuses what the rows hold: the batch is split to
    /// isolate the refused rows, which go to <c>flows_rejected</c>; the others are stored.
    /// </summary>
    Data,
}
