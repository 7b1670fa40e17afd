using System.Globalization;
using System.Text.RegularExpressions;
using NetObserv.Server.Ingest;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>
/// A burst from a real exporter: softflowd reads a capture of 300,000 distinct flows and exports them as fast as
/// it can send. Every flow must be stored. When the kernel dropped datagrams on the socket (its receive buffer was
/// too small for the burst), the failure says so and by how much the buffer must grow; drops after the socket
/// (queue or channel full) fail with their reason.
/// </summary>
public sealed class IpfixSoftflowdBurstTests(ITestOutputHelper output)
{
    private const int Flows = 300_000;

    /// <summary>A generous size for one IPFIX datagram from softflowd, to turn dropped datagrams into bytes.</summary>
    private const int DatagramBytes = 1500;

    [SoftflowdFact]
    public async Task Softflowd_BurstOf300000Flows_AllStoredWhenTheKernelDropsNone()
    {
        var softflowd = SoftflowdFactAttribute.Locate()
            ?? throw new InvalidOperationException("softflowd is not installed (apt-get install softflowd)");
        // Default settings: when the ingest channel is full, decoded batches go to the journal and are
        // written from there, so nothing past the socket may be dropped.
        await using var server = await RunningServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("netobserv-burst-");
        try
        {
            var pcap = Path.Combine(dir.FullName, "flows.pcap");
            await File.WriteAllBytesAsync(pcap, Capture(Flows));

            var (exitCode, printed) = await IpfixSoftflowdTests.RunAsync(softflowd,
                ["-r", pcap, "-n", $"127.0.0.1:{server.IpfixPort}", "-v", "10", "-d", "-m", (Flows + 1000).ToString(CultureInfo.InvariantCulture)]);
            Assert.True(exitCode == 0, $"softflowd exited with {exitCode}:\n{printed}");

            // Settled: every flow is in, or the count has not moved for 10 s (the decoder and writer are done).
            long stored = 0;
            var still = 0;
            for (var waited = 0; waited < 180 && stored < Flows && still < 10; waited++)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                var now = await CountAsync(server.ConnectionString);
                still = now == stored ? still + 1 : 0;
                stored = now;
            }

            var metrics = await server.Http.GetStringAsync(new Uri("/metrics", UriKind.Relative)).DefaultTimeout();
            var kernelDrops = Metric(metrics, "netobserv_ipfix_socket_drops_total");
            var queueFull = Metric(metrics, "netobserv_ipfix_drops_total{reason=\"queue_full\"}");
            var channelFull = Metric(metrics, "netobserv_ipfix_drops_total{reason=\"channel_full\"}");
            var buffer = UdpSocketKernel.ReadRmemMax();
            output.WriteLine($"sent {Flows}, stored {stored}, kernel drops {kernelDrops}, queue_full {queueFull}, " +
                $"channel_full {channelFull}, net.core.rmem_max {buffer}");

            if (kernelDrops > 0)
            {
                var grow = kernelDrops * DatagramBytes;
                Assert.Fail($"the kernel dropped {kernelDrops} datagrams on the IPFIX socket (stored {stored} of {Flows}): its " +
                    $"receive buffer is too small for this burst. Grow it by about {grow} bytes (≈ {kernelDrops} datagrams " +
                    $"× {DatagramBytes}): Ipfix:ReceiveBufferBytes and, unless the server may use SO_RCVBUFFORCE, " +
                    $"sysctl -w net.core.rmem_max={(buffer ?? 0) + grow}");
            }

            Assert.True(queueFull == 0 && channelFull == 0,
                $"dropped after the socket: queue_full {queueFull}, channel_full {channelFull} (stored {stored} of {Flows})");
            Assert.Equal(Flows, stored);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>One UDP packet per flow, each flow its own (source, source port) pair, timestamps a minute ago.</summary>
    internal static byte[] Capture(int flows)
    {
        using var capture = new IpfixSoftflowdTests.CaptureWriter();
        var start = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
        for (var i = 0; i < flows; i++)
        {
            var src = $"10.{(i >> 16) & 0xFF}.{(i >> 8) & 0xFF}.{i & 0xFF}";
            capture.Udp(start, i * 10L, src, "10.200.0.1", 1024 + (i % 60000), 53, payload: 32);
        }

        return capture.ToArray();
    }

    private static long Metric(string text, string series)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(series) + @"\s+(\d+)", RegexOptions.Multiline);
        return match.Success ? long.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
    }

    private static async Task<long> CountAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM flows", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
