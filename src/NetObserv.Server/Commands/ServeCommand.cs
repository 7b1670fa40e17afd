using NetObserv.Server.Hosting;

namespace NetObserv.Server.Commands;

/// <summary><c>serve</c>: every role in one process until Ctrl+C or SIGTERM.</summary>
internal static class ServeCommand
{
    public static async Task<int> RunAsync(ParsedCommandLine commandLine)
    {
        await using var app = await NetObservHost.BuildAsync(commandLine, configure: null, CancellationToken.None)
            .ConfigureAwait(false);
        await app.RunAsync().ConfigureAwait(false);
        return 0;
    }
}
