using System.Globalization;
using NetObserv.Server.Commands;

namespace NetObserv.Server.Loadgen;

/// <summary>
/// <c>loadgen --protocol grpc --target host:port [--rate N|max] [--duration D] [--flows-per-message M]
/// [--concurrency C] [--sampling S] [--seed S]</c>: prints progress once a second and, at the end, the
/// sent, acknowledged and refused counts, acknowledged flows/s and Send latency percentiles.
/// Exits 1 when nothing was acknowledged.
/// </summary>
internal static class GrpcLoadCommand
{
    public static async Task<int> RunAsync(IReadOnlyList<string> args)
    {
        var options = Parse(args);
        var cluster = SyntheticCluster.Create(options.Seed);
        var rate = options.Rate is { } r ? r.ToString("0", CultureInfo.InvariantCulture) + " flows/s" : "max";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"loadgen grpc -> {options.Address} rate {rate}, {options.Duration.TotalSeconds:0.#} s, {options.FlowsPerMessage} flows/message, {options.Concurrency} in flight"));
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var result = await new GrpcLoadGenerator(options, cluster).RunAsync(p => Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{p.Elapsed.TotalSeconds,5:0}s  sent {p.Sent,12:N0}  acknowledged {p.Acknowledged,12:N0}  refused {p.Refused,10:N0}  failed {p.Failed,8:N0}  {p.AcknowledgedPerSecond,10:N0} flows/s")),
            cancel.Token).ConfigureAwait(false);

        Console.WriteLine(Summary(result));
        return result.Acknowledged > 0 ? 0 : 1;
    }

    /// <summary>The closing lines of a run.</summary>
    public static string Summary(GrpcLoadResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        return string.Create(CultureInfo.InvariantCulture,
            $"""
            sent {result.Sent} flows in {result.Sends} messages, acknowledged {result.Acknowledged}, refused {result.Refused}, failed {result.Failed}
            {result.AcknowledgedPerSecond:0} flows/s acknowledged over {result.Elapsed.TotalSeconds:0.0} s; Send p50 {result.SendMilliseconds(50):0.00} ms, p99 {result.SendMilliseconds(99):0.00} ms
            """);
    }

    public static GrpcLoadOptions Parse(IReadOnlyList<string> args)
    {
        var target = LoadgenArguments.Get(args, "--target")
            ?? throw new CommandLineException("loadgen: --target host:port is required");
        var rateText = LoadgenArguments.Get(args, "--rate") ?? "max";
        double? rate = null;
        if (rateText != "max")
        {
            rate = double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && value > 0
                ? value
                : throw new CommandLineException($"loadgen: --rate must be a positive number or 'max' (was '{rateText}')");
        }

        var duration = TimeSpan.FromSeconds(10);
        if (LoadgenArguments.Get(args, "--duration") is { } durationText
            && !GrpcLoadOptions.TryParseDuration(durationText, out duration))
        {
            throw new CommandLineException($"loadgen: --duration must look like 30s, 5m or 60 (was '{durationText}')");
        }

        return new GrpcLoadOptions
        {
            Target = target,
            Rate = rate,
            Duration = duration,
            FlowsPerMessage = PositiveInt(args, "--flows-per-message", 1000),
            Concurrency = PositiveInt(args, "--concurrency", 4),
            Sampling = PositiveInt(args, "--sampling", 1),
            Seed = PositiveInt(args, "--seed", 1),
        };
    }

    private static int PositiveInt(IReadOnlyList<string> args, string name, int fallback)
    {
        var text = LoadgenArguments.Get(args, name);
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new CommandLineException($"loadgen: {name} must be a positive integer (was '{text}')");
    }
}
