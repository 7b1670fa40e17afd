namespace NetObserv.Query.Planning;

/// <summary>
/// What <c>/loki/api/v1/index/stats</c> answers for a selector over a time range. <see cref="Entries"/>
/// is the number of matching flows; <see cref="Bytes"/> an estimate of their JSON lines' size;
/// <see cref="Streams"/> and <see cref="Chunks"/> the distinct stream keys and the (stream key, hour)
/// pairs of the hourly rollup (see <see cref="StatsPlanner"/>).
/// </summary>
internal sealed record IndexStats(long Streams, long Chunks, long Bytes, long Entries);
