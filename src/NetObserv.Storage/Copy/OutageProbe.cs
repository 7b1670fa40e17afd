using Npgsql;

namespace NetObserv.Storage.Copy;

/// <summary>Asks the database whether it answers again (one <c>SELECT 1</c> on a fresh connection).</summary>
internal static class OutageProbe
{
    public static async Task<bool> ProbeAsync(NpgsqlDataSource dataSource, CancellationToken stop)
    {
        try
        {
            var connection = await dataSource.OpenOrAbandonAsync(stop).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var command = new NpgsqlCommand("SELECT 1", connection);
                await using (command.ConfigureAwait(false))
                {
                    await command.ExecuteScalarAsync(stop).ConfigureAwait(false);
                    return true;
                }
            }
        }
        catch (Exception e) when (e is not OperationCanceledException || !stop.IsCancellationRequested)
        {
            return false;
        }
    }
}
