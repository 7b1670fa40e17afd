namespace NetObserv.Testing;

/// <summary>Every await in a test is bounded: a hang becomes a clear failure.</summary>
public static class Timeouts
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(90);

    public static Task DefaultTimeout(this Task task) => task.WaitAsync(Default);

    public static Task<T> DefaultTimeout<T>(this Task<T> task) => task.WaitAsync(Default);

    /// <summary>Polls <paramref name="condition"/> until it holds or the timeout passes.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan? timeout = null, string? what = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? Default);
        while (!await condition().ConfigureAwait(false))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("timed out waiting for " + (what ?? "condition"));
            }

            await Task.Delay(50).ConfigureAwait(false);
        }
    }
}
