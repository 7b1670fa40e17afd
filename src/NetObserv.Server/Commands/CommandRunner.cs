using Microsoft.Extensions.Options;
using NetObserv.Server.Auth;
using NetObserv.Storage.LocalPostgres;

namespace NetObserv.Server.Commands;

/// <summary>Dispatches <c>serve</c>, <c>migrate</c> and <c>loadgen</c>; turns expected failures into one clear line and exit code 2.</summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            var parsed = CommandLine.Parse(args);
            return parsed.Command switch
            {
                "serve" => await ServeCommand.RunAsync(parsed).ConfigureAwait(false),
                "migrate" => await MigrateCommand.RunAsync(parsed).ConfigureAwait(false),
                "loadgen" => await LoadgenCommand.RunAsync(parsed).ConfigureAwait(false),
                "help" or "--help" or "-h" => Usage(Console.Out, 0),
                _ => throw new CommandLineException($"unknown command '{parsed.Command}'"),
            };
        }
        catch (CommandLineException ex)
        {
            await Console.Error.WriteLineAsync("netobserv-backend: " + ex.Message).ConfigureAwait(false);
            return Usage(Console.Error, 2);
        }
        catch (OptionsValidationException ex)
        {
            foreach (var failure in ex.Failures)
            {
                await Console.Error.WriteLineAsync("netobserv-backend: invalid setting: " + failure).ConfigureAwait(false);
            }

            return 2;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal))
        {
            // The binder's own line names the key and the type it expected (an enum's names are listed in --help).
            await Console.Error.WriteLineAsync("netobserv-backend: invalid setting: " + ex.Message).ConfigureAwait(false);
            return 2;
        }
        catch (TokenFileException ex)
        {
            await Console.Error.WriteLineAsync("netobserv-backend: invalid tokens file: " + ex.Message).ConfigureAwait(false);
            return 2;
        }
        catch (ManagedPostgresException ex)
        {
            await Console.Error.WriteLineAsync("netobserv-backend: " + ex.Message).ConfigureAwait(false);
            return 2;
        }
    }

    private static int Usage(TextWriter writer, int exitCode)
    {
        writer.WriteLine("usage: netobserv-backend [serve|migrate|loadgen] [flags]");
        writer.WriteLine("  serve     run ingest and query (default); --demo adds synthetic cluster traffic");
        writer.WriteLine("  migrate   apply database migrations and exit");
        writer.WriteLine("  loadgen   send synthetic flows: --protocol grpc|ipfix --target host:port --rate N|max --duration D");
        writer.WriteLine("flags (environment):");
        foreach (var (flag, env, key) in CommandLine.Settings)
        {
            writer.WriteLine($"  {flag,-16} {(env is null ? "" : "(" + env + ")"),-26} {key}");
        }

        return exitCode;
    }
}
