using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NetObserv.Server.Commands;

namespace NetObserv.Server.Loadgen;

/// <summary>
/// <c>loadgen --protocol ipfix --target host:port --rate N|max --duration D</c>: sends the template, then
/// data messages of <see cref="IpfixLoadMessages.RecordsPerMessage"/> records at N records per second
/// (or as fast as the socket takes them), re-sending the template every few seconds as exporters do.
/// </summary>
internal static class IpfixLoadGenerator
{
    private static readonly TimeSpan s_templateRefresh = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        var target = LoadgenArguments.Get(args, "--target") ?? "127.0.0.1:4739";
        var rateText = LoadgenArguments.Get(args, "--rate") ?? "max";
        var duration = ParseDuration(LoadgenArguments.Get(args, "--duration") ?? "10s");
        double rate = 0;
        if (rateText != "max" && (!double.TryParse(rateText, NumberStyles.Float, CultureInfo.InvariantCulture, out rate) || rate <= 0))
        {
            throw new CommandLineException($"loadgen: --rate must be a positive number of records per second or 'max', not '{rateText}'");
        }

        var endPoint = await ResolveAsync(target, cancellationToken).ConfigureAwait(false);
        var (flows, messages, elapsed) = await SendAsync(endPoint, rate, duration, cancellationToken).ConfigureAwait(false);
        var seconds = Math.Max(elapsed.TotalSeconds, 1e-9);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"ipfix loadgen: sent {flows} flow records in {messages} messages to {endPoint} over {seconds:F1} s ({flows / seconds:F0} records/s)"));
        return 0;
    }

    /// <summary>Sends for <paramref name="duration"/> at <paramref name="rate"/> records/s (0: as fast as possible).</summary>
    internal static async Task<(long Flows, long Messages, TimeSpan Elapsed)> SendAsync(IPEndPoint endPoint, double rate,
        TimeSpan duration, CancellationToken cancellationToken)
    {
        using var socket = new Socket(endPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        await socket.ConnectAsync(endPoint, cancellationToken).ConfigureAwait(false);

        var buffer = new byte[2048];
        var domain = (uint)Environment.ProcessId;
        uint sequence = 0;
        long flows = 0;
        long messages = 0;
        var clock = Stopwatch.StartNew();
        TimeSpan? lastTemplate = null;
        while (clock.Elapsed < duration && !cancellationToken.IsCancellationRequested)
        {
            var now = DateTimeOffset.UtcNow;
            var exportTime = (uint)now.ToUnixTimeSeconds();
            if (lastTemplate is null || clock.Elapsed - lastTemplate.Value >= s_templateRefresh)
            {
                var templateLength = IpfixLoadMessages.WriteTemplate(buffer, exportTime, sequence, domain);
                await socket.SendAsync(buffer.AsMemory(0, templateLength), cancellationToken).ConfigureAwait(false);
                lastTemplate = clock.Elapsed;
                messages++;
            }

            var count = IpfixLoadMessages.RecordsPerMessage;
            var length = IpfixLoadMessages.WriteData(buffer, exportTime, sequence, domain, flows, count, now.ToUnixTimeMilliseconds());
            await socket.SendAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
            sequence += (uint)count;
            flows += count;
            messages++;

            if (rate > 0)
            {
                // Pace: the flows sent so far are due at flows / rate seconds.
                var ahead = TimeSpan.FromSeconds(flows / rate) - clock.Elapsed;
                if (ahead > TimeSpan.FromMilliseconds(1))
                {
                    await Task.Delay(ahead, cancellationToken).ConfigureAwait(false);
                }
            }
        }

        return (flows, messages, clock.Elapsed);
    }

    internal static TimeSpan ParseDuration(string text)
    {
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && text.Contains(':', StringComparison.Ordinal))
        {
            return span;
        }

        var hasUnit = text.Length > 0 && char.IsLetter(text[^1]);
        var unit = hasUnit ? text[^1] : 's';
        var number = hasUnit ? text[..^1] : text;
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value <= 0)
        {
            throw new CommandLineException($"loadgen: --duration must look like 30s, 5m, 1h or 00:00:30, not '{text}'");
        }

        return unit switch
        {
            's' => TimeSpan.FromSeconds(value),
            'm' => TimeSpan.FromMinutes(value),
            'h' => TimeSpan.FromHours(value),
            _ => throw new CommandLineException($"loadgen: unknown duration unit in '{text}'"),
        };
    }

    private static async Task<IPEndPoint> ResolveAsync(string target, CancellationToken cancellationToken)
    {
        var colon = target.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(target.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535)
        {
            throw new CommandLineException($"loadgen: --target must be host:port, not '{target}'");
        }

        var host = target[..colon].Trim('[', ']');
        if (IPAddress.TryParse(host, out var address))
        {
            return new IPEndPoint(address, port);
        }

        var addresses = await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        if (addresses.Length == 0)
        {
            throw new CommandLineException($"loadgen: cannot resolve '{host}'");
        }

        return new IPEndPoint(addresses[0], port);
    }
}
