namespace NetObserv.Server.Commands;

/// <summary>
/// The command-line contract: <c>netobserv-backend [serve|migrate|loadgen] [flags]</c>. Each stable flag
/// has an environment-variable twin and a configuration key; flags win over the environment, which
/// wins over appsettings.json.
/// </summary>
internal static class CommandLine
{
    /// <summary>Flag, environment variable, configuration key.</summary>
    public static readonly IReadOnlyList<(string Flag, string? Environment, string Key)> Settings =
    [
        ("--database", "NETOBSERV_DATABASE", "Storage:ConnectionString"),
        ("--data-dir", "NETOBSERV_DATA_DIR", "Storage:DataDirectory"),
        ("--timescaledb", "NETOBSERV_TIMESCALEDB", "Storage:TimescaleDb"),
        ("--retention", "NETOBSERV_RETENTION", "Storage:Retention"),
        ("--listen", "NETOBSERV_LISTEN", "Server:ListenAddress"),
        ("--http-port", "NETOBSERV_HTTP_PORT", "Server:HttpPort"),
        ("--grpc-port", "NETOBSERV_GRPC_PORT", "Server:GrpcPort"),
        ("--query-grpc-port", "NETOBSERV_QUERY_GRPC_PORT", "Server:QueryGrpcPort"),
        ("--ipfix-port", "NETOBSERV_IPFIX_PORT", "Server:IpfixPort"),
        ("--netflow-port", "NETOBSERV_NETFLOW_PORT", "Server:NetflowPort"),
        ("--role", "NETOBSERV_ROLE", "Server:Role"),
        ("--auth-file", "NETOBSERV_AUTH_FILE", "Auth:TokensFile"),
        ("--auth-mode", "NETOBSERV_AUTH_MODE", "Auth:Mode"),
        ("--inventory", "NETOBSERV_INVENTORY", "Enrichment:InventoryFile"),
        ("--kubernetes", "NETOBSERV_KUBERNETES", "Enrichment:Kubernetes"),
        ("--demo", null, "Demo:Enabled"),
        ("--demo-backfill", null, "Demo:Backfill"),
    ];

    /// <summary>Flags that take no value (present means true).</summary>
    private static readonly HashSet<string> s_switches = new(StringComparer.Ordinal) { "--demo", "--kubernetes" };

    /// <summary>
    /// Splits <paramref name="args"/> into the subcommand, the configuration values the flags and
    /// environment set, and the flags this table does not know (left for the subcommand).
    /// </summary>
    public static ParsedCommandLine Parse(IReadOnlyList<string> args)
    {
        var command = "serve";
        var start = 0;
        if (args.Count > 0 && !args[0].StartsWith('-'))
        {
            command = args[0];
            start = 1;
        }

        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (_, env, key) in Settings)
        {
            if (env is not null && Environment.GetEnvironmentVariable(env) is { Length: > 0 } value)
            {
                values[key] = value;
            }
        }

        var rest = new List<string>();
        for (var i = start; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }

            var setting = Settings.FirstOrDefault(s => s.Flag == arg);
            if (setting.Flag is null)
            {
                rest.Add(args[i]);
                continue;
            }

            if (inline is not null)
            {
                values[setting.Key] = inline;
            }
            else if (s_switches.Contains(arg) && (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal)
                || !IsBoolean(args[i + 1])))
            {
                values[setting.Key] = "true";
            }
            else if (i + 1 < args.Count)
            {
                values[setting.Key] = args[++i];
            }
            else
            {
                throw new CommandLineException($"{arg} needs a value");
            }
        }

        if (values.ContainsKey("Demo:Backfill"))
        {
            values.TryAdd("Demo:Enabled", "true");
        }

        return new ParsedCommandLine(command, values, rest);
    }

    private static bool IsBoolean(string value) =>
        value.Equals("true", StringComparison.OrdinalIgnoreCase) || value.Equals("false", StringComparison.OrdinalIgnoreCase);
}

/// <summary>The subcommand, the configuration values set by flags and environment, and the other arguments.</summary>
internal sealed record ParsedCommandLine(
    string Command, IReadOnlyDictionary<string, string?> Values, IReadOnlyList<string> Rest);

/// <summary>A command line that cannot be run; the message says why.</summary>
internal sealed class CommandLineException : Exception
{
    public CommandLineException()
    {
    }

    public CommandLineException(string message)
        : base(message)
    {
    }

    public CommandLineException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
