namespace NetObserv.Server.Commands;

/// <summary>appsettings.json, then <c>NETOBSERV__Section__Key</c> environment variables, then the command line.</summary>
internal static class NetObservConfiguration
{
    public static IConfigurationRoot Build(ParsedCommandLine commandLine)
    {
        var builder = new ConfigurationBuilder();
        Apply(builder, commandLine);
        return builder.Build();
    }

    public static void Apply(IConfigurationBuilder builder, ParsedCommandLine commandLine)
    {
        builder
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables("NETOBSERV__")
            .AddInMemoryCollection(commandLine.Values);
    }
}
