using System.Globalization;
using NetObserv.Storage;

namespace NetObserv.Benchmarks.Query;

/// <summary>
/// The options of the benchmarks that load flows first: <c>--flows N</c>, <c>--iterations N</c>,
/// <c>--data-dir DIR</c> (a managed PostgreSQL kept between runs), <c>--database CS</c> and <c>--timescaledb</c>
/// (TimescaleDB mode instead of native partitions; a data folder keeps the mode it was created with).
/// </summary>
internal sealed record LoadOptions(long Flows, int Iterations, string DataDirectory, string? Database,
    bool TimescaleDb = false)
{
    /// <summary>The options in <paramref name="args"/> over the defaults, or null (and a message) for an unknown one.</summary>
    public static LoadOptions? Parse(string[] args, LoadOptions defaults)
    {
        var options = defaults;
        if (args.Contains("--timescaledb"))
        {
            options = options with { TimescaleDb = true };
            args = args.Where(a => a != "--timescaledb").ToArray();
        }

        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            switch (args[i])
            {
                case "--flows": options = options with { Flows = long.Parse(args[i + 1], CultureInfo.InvariantCulture) }; break;
                case "--iterations": options = options with { Iterations = int.Parse(args[i + 1], CultureInfo.InvariantCulture) }; break;
                case "--data-dir": options = options with { DataDirectory = args[i + 1] }; break;
                case "--database": options = options with { Database = args[i + 1] }; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return null;
            }
        }

        return options;
    }

    /// <summary>Opens the database (native partitions, or TimescaleDB with <c>--timescaledb</c>).</summary>
    public Task<FlowDatabase> OpenAsync() =>
        FlowDatabase.OpenAsync(new StorageOptions
        {
            ConnectionString = Database,
            DataDirectory = DataDirectory,
            TimescaleDb = TimescaleDb ? "on" : "off",
        }, null, CancellationToken.None);
}
