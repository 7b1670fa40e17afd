namespace NetObserv.Server.Hosting;

/// <summary>Calls a poll every interval until the host stops: how watched files (inventory, tokens) are followed.</summary>
internal static class PeriodicPoll
{
    public static async Task RunAsync(TimeSpan interval, TimeProvider time, Func<bool> poll, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
            {
                poll();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
