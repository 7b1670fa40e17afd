// Benchmarks: `dotnet run -c Release --project benchmarks/NetObserv.Benchmarks -- <name> [args]`.
// Each macro benchmark prints one line per figure; figures are recorded in docs/benchmarks.md.
var name = args.Length > 0 ? args[0] : "";
var rest = args.Length > 0 ? args[1..] : [];
switch (name)
{
    case "query": return await NetObserv.Benchmarks.Query.QueryBenchmark.RunAsync(rest);
    default:
        Console.Error.WriteLine($"unknown benchmark '{name}'");
        return 2;
}
