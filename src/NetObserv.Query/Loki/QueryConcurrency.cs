using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Loki;

/// <summary>
/// Bounds how many <c>query</c> and <c>query_range</c> requests are evaluated at once
/// (<c>Query:MaxConcurrentQueries</c>), so the memory of answers in progress is bounded as well as each
/// answer's: more wait in line, up to <c>Query:MaxQueuedQueries</c>, and past that a request is answered
/// 429 at once. Answers from the result cache take no slot.
/// </summary>
internal sealed class QueryConcurrency : IDisposable
{
    private readonly SemaphoreSlim _slots;
    private readonly int _maxConcurrent;
    private readonly int _maxQueued;
    private int _queued;

    public QueryConcurrency(IOptions<QueryOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _maxConcurrent = options.Value.MaxConcurrentQueries;
        _maxQueued = options.Value.MaxQueuedQueries;
        _slots = new SemaphoreSlim(_maxConcurrent, _maxConcurrent);
    }

    /// <summary>Queries waiting for a slot.</summary>
    public int Queued => Volatile.Read(ref _queued);

    /// <summary>
    /// Takes a slot, waiting in line when all are taken; the returned handle gives it back. Throws a 429
    /// <see cref="BadHttpRequestException"/> when the line is full.
    /// </summary>
    public async ValueTask<Slot> EnterAsync(CancellationToken cancellationToken)
    {
        if (_slots.Wait(0, CancellationToken.None))
        {
            return new Slot(_slots);
        }

        if (Interlocked.Increment(ref _queued) > _maxQueued)
        {
            Interlocked.Decrement(ref _queued);
            throw new BadHttpRequestException(
                $"too many queries in progress ({_maxConcurrent} running, {_maxQueued} waiting; "
                + "Query:MaxConcurrentQueries, Query:MaxQueuedQueries); retry later",
                StatusCodes.Status429TooManyRequests);
        }

        try
        {
            await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _queued);
        }

        return new Slot(_slots);
    }

    public void Dispose() => _slots.Dispose();

    /// <summary>A taken slot; disposing it gives it back.</summary>
    internal readonly struct Slot(SemaphoreSlim slots) : IDisposable
    {
        public void Dispose() => slots.Release();
    }
}
