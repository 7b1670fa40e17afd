namespace NetObserv.Storage.Copy;

/// <summary>Counts the writer's lanes and its replayer share.</summary>
internal sealed class WriterCounters
{
    private long _writeErrors;
    private long _rowsRejected;
    private long _rowsReplayed;
    private long _badSpillFiles;
    private long _rowsSpilled;

    public long WriteErrors => Interlocked.Read(ref _writeErrors);

    public long RowsRejected => Interlocked.Read(ref _rowsRejected);

    public long RowsReplayed => Interlocked.Read(ref _rowsReplayed);

    public long BadSpillFiles => Interlocked.Read(ref _badSpillFiles);

    public long RowsSpilled => Interlocked.Read(ref _rowsSpilled);

    public void WriteError() => Interlocked.Increment(ref _writeErrors);

    public void Rejected() => Interlocked.Increment(ref _rowsRejected);

    public void Replayed(long rows) => Interlocked.Add(ref _rowsReplayed, rows);

    public void BadSpillFile() => Interlocked.Increment(ref _badSpillFiles);

    public void Spilled(long rows) => Interlocked.Add(ref _rowsSpilled, rows);
}
