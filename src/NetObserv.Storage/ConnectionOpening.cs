using Npgsql;

namespace NetObserv.Storage;

/// <summary>Opening connections for the writer, whose shutdown must not wait on a server that does not answer.</summary>
internal static class ConnectionOpening
{
    /// <summary>
    /// Opens a connection, or gives up as soon as <paramref name="cancellationToken"/> fires: Npgsql does not
    /// cancel an attempt stuck in its startup exchange (a server or proxy that accepts and never answers)
    /// until its connect timeout, and the host's shutdown timeout must still move what the writer holds to
    /// the journal. A connection that opens after that is closed.
    /// </summary>
    public static async Task<NpgsqlConnection> OpenOrAbandonAsync(this NpgsqlDataSource dataSource,
        CancellationToken cancellationToken)
    {
        var opening = dataSource.OpenConnectionAsync(cancellationToken).AsTask();
        try
        {
            return await opening.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Also when the attempt succeeded just as the token fired: the connection goes back to the pool.
            _ = CloseLateAsync(opening);
            throw;
        }
    }

    private static async Task CloseLateAsync(Task<NpgsqlConnection> opening)
    {
        try
        {
            var connection = await opening.ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or OperationCanceledException or TimeoutException)
        {
            // The attempt failed after all: there is nothing to close.
        }
    }
}
