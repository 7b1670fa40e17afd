using NetObserv.Storage;

namespace NetObserv.Server.Commands;

/// <summary><c>migrate</c>: open the database (or the managed one), apply migrations, exit.</summary>
internal static class MigrateCommand
{
    public static async Task<int> RunAsync(ParsedCommandLine commandLine)
    {
        var configuration = NetObservConfiguration.Build(commandLine);
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        using var loggerFactory = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true));
        await using var database = await FlowDatabase.OpenAsync(options, loggerFactory, CancellationToken.None)
            .ConfigureAwait(false);
        await Console.Out.WriteLineAsync($"database migrated ({database.Mode} mode)").ConfigureAwait(false);
        return 0;
    }
}
