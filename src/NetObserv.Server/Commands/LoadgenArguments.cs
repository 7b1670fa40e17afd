namespace NetObserv.Server.Commands;

/// <summary>Reads <c>--name value</c> pairs from the arguments a subcommand was left with.</summary>
internal static class LoadgenArguments
{
    public static string? Get(IReadOnlyList<string> args, string name)
    {
        for (var i = 0; i < args.Count; i++)
        {
            if (args[i] == name && i + 1 < args.Count)
            {
                return args[i + 1];
            }

            if (args[i].StartsWith(name + "=", StringComparison.Ordinal))
            {
                return args[i][(name.Length + 1)..];
            }
        }

        return null;
    }
}
