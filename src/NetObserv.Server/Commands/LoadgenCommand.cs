using NetObserv.Server.Loadgen;

namespace NetObserv.Server.Commands;

/// <summary><c>loadgen --protocol grpc|ipfix</c>: synthetic flows sent to a collector at a rate.</summary>
internal static class LoadgenCommand
{
    public static Task<int> RunAsync(ParsedCommandLine commandLine)
    {
        var protocol = LoadgenArguments.Get(commandLine.Rest, "--protocol") ?? "grpc";
        return protocol switch
        {
            "grpc" => GrpcLoadCommand.RunAsync(commandLine.Rest),
            "ipfix" => IpfixLoadGenerator.RunAsync(commandLine.Rest, CancellationToken.None),
            _ => throw new CommandLineException($"loadgen: unknown protocol '{protocol}' (grpc or ipfix)"),
        };
    }
}
