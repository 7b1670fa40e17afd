using NetObserv.Flows;
using NetObserv.Storage.Dictionaries;
using NetObserv.Storage.Rollups;

namespace NetObserv.Storage.Copy;

/// <summary>What one writer loop (or the replayer) reuses from batch to batch.</summary>
internal sealed class WriteLane(int capacity)
{
    public List<FlowRecord> Batch { get; } = new(capacity);

    /// <summary>Per batch taken into <see cref="Batch"/>: its journal position (0: none) and where its records end.</summary>
    public List<(long Position, int End)> Positions { get; } = [];

    public RollupAggregator Rollups { get; } = new();

    public RowIds Ids { get; } = new();

    public Dictionary<RollupKey, int> RollupKeyIds { get; } = [];

    public List<DateOnly> Days { get; } = [];

    /// <summary>Records refused in the current batch or journal file, for one log line.</summary>
    public RejectionTally Rejections { get; } = new();

    /// <summary>Records of <see cref="Batch"/> before this index are settled (committed, skipped or spilled).</summary>
    public int Done { get; set; }

    /// <summary>
    /// The journal positions of the batches wholly inside records [start, start + count): a committed part
    /// records exactly these, so a batch split across parts is recorded by none of them.
    /// </summary>
    public List<long> PositionsWithin(int start, int count)
    {
        var within = new List<long>();
        var begin = 0;
        foreach (var (position, end) in Positions)
        {
            if (position > 0 && begin >= start && end <= start + count && end > begin)
            {
                within.Add(position);
            }

            begin = end;
        }

        return within;
    }

    public void Clear()
    {
        Batch.Clear();
        Positions.Clear();
        Done = 0;
    }
}
