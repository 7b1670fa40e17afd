namespace NetObserv.Flows.Pipeline;

/// <summary>
/// What the ingest accepted lately, for caches of past answers: per second of acceptance (on
/// <see cref="NowMs"/>), the earliest flow end time among the records accepted in it, over the last
/// <see cref="WindowSeconds"/> seconds. A cached answer over a range ending at E, computed at time T, is stale
/// when a record accepted at or after T (less the write delay) ends at or before E:
/// <see cref="EarliestEndAcceptedSince"/> answers that in one pass over the slots.
/// </summary>
public sealed class IngestWatermark
{
    /// <summary>Seconds of history kept (one hour): longer than any cached answer lives.</summary>
    public const int WindowSeconds = 3_600;

    private readonly long[] _second = new long[WindowSeconds];
    private readonly long[] _earliestEndMs = new long[WindowSeconds];
    private readonly Lock _lock = new();

    private readonly TimeProvider _time;

    public IngestWatermark(TimeProvider? time = null)
    {
        _time = time ?? TimeProvider.System;
        Array.Fill(_second, -1);
    }

    /// <summary>The clock of this watermark (Unix milliseconds).</summary>
    public long NowMs => _time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <summary>Notes records accepted now whose earliest <c>TimeFlowEndMs</c> is <paramref name="earliestEndMs"/>.</summary>
    public void Accepted(long earliestEndMs)
    {
        var second = NowMs / 1000;
        var slot = (int)(second % WindowSeconds);
        lock (_lock)
        {
            if (_second[slot] != second)
            {
                _second[slot] = second;
                _earliestEndMs[slot] = earliestEndMs;
            }
            else if (earliestEndMs < _earliestEndMs[slot])
            {
                _earliestEndMs[slot] = earliestEndMs;
            }
        }
    }

    /// <summary>Notes a batch of accepted records.</summary>
    public void Accepted(IReadOnlyList<FlowRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var earliest = long.MaxValue;
        for (var i = 0; i < records.Count; i++)
        {
            earliest = Math.Min(earliest, records[i].TimeFlowEndMs);
        }

        if (records.Count > 0)
        {
            Accepted(earliest);
        }
    }

    /// <summary>
    /// The earliest flow end time (epoch ms) among records accepted at or after <paramref name="sinceMs"/>
    /// (<see cref="NowMs"/> clock); <see cref="long.MaxValue"/> when none was, <see cref="long.MinValue"/> when
    /// that time is older than the history kept (unknown: treat as stale).
    /// </summary>
    public long EarliestEndAcceptedSince(long sinceMs)
    {
        if (NowMs - sinceMs >= (WindowSeconds - 1) * 1000L)
        {
            return long.MinValue;
        }

        var fromSecond = sinceMs / 1000;
        var earliest = long.MaxValue;
        lock (_lock)
        {
            for (var slot = 0; slot < WindowSeconds; slot++)
            {
                if (_second[slot] >= fromSecond && _earliestEndMs[slot] < earliest)
                {
                    earliest = _earliestEndMs[slot];
                }
            }
        }

        return earliest;
    }
}
