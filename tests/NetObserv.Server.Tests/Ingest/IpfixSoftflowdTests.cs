using System.Buffers.Binary;
using System.Diagnostics;
using System.Net;
using NetObserv.Server.Tests.Hosting;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Server.Tests.Ingest;

/// <summary>
/// A real exporter: softflowd (Debian's package) reads a capture this test writes, with known flows,
/// and exports IPFIX to the collector on 127.0.0.1. The flows, bytes and packets stored in PostgreSQL
/// must equal what the capture holds. softflowd reports each direction of a connection as one record
/// and counts IP bytes (the IPv4 total length).
/// </summary>
public sealed class IpfixSoftflowdTests
{
    [SoftflowdFact]
    public async Task Softflowd_CaptureWithKnownFlows_StoredCountsEqualCapture()
    {
        var softflowd = SoftflowdFactAttribute.Locate()
            ?? throw new InvalidOperationException(
                "softflowd is not installed: this integration test needs Debian's softflowd package (apt-get install softflowd); " +
                ".ci/run installs it");
        await using var server = await RunningServer.StartAsync();
        var dir = Directory.CreateTempSubdirectory("netobserv-softflowd-");
        try
        {
            var startSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60;
            using var capture = new CaptureWriter();
            var expected = WriteFlows(capture, startSeconds);
            var pcap = Path.Combine(dir.FullName, "flows.pcap");
            await File.WriteAllBytesAsync(pcap, capture.ToArray());

            // -r: read the capture, then expire (export) every flow at its end; -v 10: IPFIX; -d: stay in
            // the foreground. (With -c, 1.1.0 keeps waiting on its control socket after the capture.)
            var (exitCode, output) = await RunAsync(softflowd,
                ["-r", pcap, "-n", $"127.0.0.1:{server.IpfixPort}", "-v", "10", "-d"]);
            Assert.True(exitCode == 0, $"softflowd exited with {exitCode}:\n{output}");

            await Timeouts.WaitUntilAsync(async () => await CountAsync(server) >= expected.Count,
                what: $"{expected.Count} flows from softflowd (its output:\n{output})");
            await Task.Delay(500); // nothing more may arrive
            var rows = await RowsAsync(server);

            Assert.Equal(expected.Count, rows.Count);
            Assert.Equal(expected.Values.Sum(e => e.Bytes), rows.Values.Sum(r => r.Bytes));
            Assert.Equal(expected.Values.Sum(e => e.Packets), rows.Values.Sum(r => r.Packets));
            foreach (var (key, want) in expected)
            {
                Assert.True(rows.TryGetValue(key, out var got), $"flow {key} missing; stored: {string.Join(", ", rows.Keys)}");
                Assert.Equal((want.Bytes, want.Packets), (got.Bytes, got.Packets));
                Assert.InRange(got.StartMs, (startSeconds * 1000) - 2000, (startSeconds * 1000) + 60_000);
                Assert.InRange(got.EndMs, got.StartMs, (startSeconds * 1000) + 60_000);
            }
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// Writes 12 UDP flows (one direction, 1 to 4 packets) and 8 TCP connections (both directions)
    /// and returns per direction (src, dst, sport, dport, proto) the IP bytes and packets written.
    /// </summary>
    private static Dictionary<string, (long Bytes, long Packets)> WriteFlows(CaptureWriter capture, long startSeconds)
    {
        var expected = new Dictionary<string, (long Bytes, long Packets)>();
        void Add(string src, string dst, int sport, int dport, int proto, int ipLength)
        {
            var key = Key(src, dst, sport, dport, proto);
            var (bytes, packets) = expected.GetValueOrDefault(key);
            expected[key] = (bytes + ipLength, packets + 1);
        }

        var micros = 0L;
        for (var i = 0; i < 12; i++)
        {
            var src = $"10.1.0.{i + 1}";
            var dst = "10.2.0.1";
            for (var p = 0; p <= i % 4; p++)
            {
                micros += 1500;
                var ipLength = capture.Udp(startSeconds, micros, src, dst, 30000 + i, 53, payload: 20 + (i * 7) + p);
                Add(src, dst, 30000 + i, 53, 17, ipLength);
            }
        }

        for (var i = 0; i < 8; i++)
        {
            var client = $"10.3.0.{i + 1}";
            var serverAddress = "10.4.0.1";
            for (var p = 0; p < 2 + i; p++)
            {
                micros += 2500;
                var request = capture.Tcp(startSeconds, micros, client, serverAddress, 40000 + i, 443, payload: 50 + p);
                Add(client, serverAddress, 40000 + i, 443, 6, request);
                micros += 2500;
                var response = capture.Tcp(startSeconds, micros, serverAddress, client, 443, 40000 + i, payload: 700 + (i * 10));
                Add(serverAddress, client, 443, 40000 + i, 6, response);
            }
        }

        return expected;
    }

    private static string Key(string src, string dst, int sport, int dport, int proto) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{src}:{sport}>{dst}:{dport}/{proto}");

    internal static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] args)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().DefaultTimeout();
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout.DefaultTimeout() + await stderr.DefaultTimeout());
    }

    private static async Task<long> CountAsync(RunningServer server)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM flows", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<Dictionary<string, (long Bytes, long Packets, long StartMs, long EndMs)>> RowsAsync(RunningServer server)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT host(src_addr), host(dst_addr), src_port, dst_port, proto, bytes, packets, " +
            "(extract(epoch FROM time_start) * 1000)::bigint, (extract(epoch FROM time_end) * 1000)::bigint FROM flows",
            connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<string, (long, long, long, long)>();
        while (await reader.ReadAsync())
        {
            var key = Key(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), reader.GetInt32(4));
            Assert.False(rows.ContainsKey(key), $"flow {key} stored twice");
            rows[key] = (reader.GetInt64(5), reader.GetInt64(6), reader.GetInt64(7), reader.GetInt64(8));
        }

        return rows;
    }

    /// <summary>A classic pcap file (microsecond timestamps, Ethernet link type) with IPv4 TCP and UDP packets.</summary>
    internal sealed class CaptureWriter : IDisposable
    {
        private readonly MemoryStream _stream = new();

        public CaptureWriter()
        {
            Span<byte> header = stackalloc byte[24];
            BinaryPrimitives.WriteUInt32LittleEndian(header, 0xA1B2C3D4);
            BinaryPrimitives.WriteUInt16LittleEndian(header[4..], 2);
            BinaryPrimitives.WriteUInt16LittleEndian(header[6..], 4);
            BinaryPrimitives.WriteUInt32LittleEndian(header[16..], 65535); // snaplen
            BinaryPrimitives.WriteUInt32LittleEndian(header[20..], 1);     // LINKTYPE_ETHERNET
            _stream.Write(header);
        }

        public byte[] ToArray() => _stream.ToArray();

        public void Dispose() => _stream.Dispose();

        /// <summary>Writes a UDP packet; returns its IP total length.</summary>
        public int Udp(long seconds, long micros, string src, string dst, int sport, int dport, int payload)
        {
            var l4 = new byte[8 + payload];
            BinaryPrimitives.WriteUInt16BigEndian(l4, (ushort)sport);
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), (ushort)dport);
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(4), (ushort)l4.Length);
            return Packet(seconds, micros, src, dst, 17, l4);
        }

        /// <summary>Writes a TCP segment with PSH|ACK; returns its IP total length.</summary>
        public int Tcp(long seconds, long micros, string src, string dst, int sport, int dport, int payload)
        {
            var l4 = new byte[20 + payload];
            BinaryPrimitives.WriteUInt16BigEndian(l4, (ushort)sport);
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(2), (ushort)dport);
            BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(4), 1000);
            BinaryPrimitives.WriteUInt32BigEndian(l4.AsSpan(8), 2000);
            l4[12] = 5 << 4;  // data offset: 5 words
            l4[13] = 0x18;    // PSH | ACK
            BinaryPrimitives.WriteUInt16BigEndian(l4.AsSpan(14), 65535);
            return Packet(seconds, micros, src, dst, 6, l4);
        }

        private int Packet(long seconds, long micros, string src, string dst, byte protocol, byte[] l4)
        {
            var ip = new byte[20 + l4.Length];
            ip[0] = 0x45;
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(2), (ushort)ip.Length);
            ip[8] = 64;
            ip[9] = protocol;
            IPAddress.Parse(src).GetAddressBytes().CopyTo(ip, 12);
            IPAddress.Parse(dst).GetAddressBytes().CopyTo(ip, 16);
            BinaryPrimitives.WriteUInt16BigEndian(ip.AsSpan(10), Checksum(ip.AsSpan(0, 20)));
            l4.CopyTo(ip, 20);

            var frame = new byte[14 + ip.Length];
            frame.AsSpan(0, 6).Fill(0x02);
            frame.AsSpan(6, 6).Fill(0x04);
            BinaryPrimitives.WriteUInt16BigEndian(frame.AsSpan(12), 0x0800);
            ip.CopyTo(frame, 14);

            Span<byte> record = stackalloc byte[16];
            var time = seconds + (micros / 1_000_000);
            BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)time);
            BinaryPrimitives.WriteUInt32LittleEndian(record[4..], (uint)(micros % 1_000_000));
            BinaryPrimitives.WriteUInt32LittleEndian(record[8..], (uint)frame.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(record[12..], (uint)frame.Length);
            _stream.Write(record);
            _stream.Write(frame);
            return ip.Length;
        }

        private static ushort Checksum(ReadOnlySpan<byte> header)
        {
            uint sum = 0;
            for (var i = 0; i < header.Length; i += 2)
            {
                sum += BinaryPrimitives.ReadUInt16BigEndian(header[i..]);
            }

            while ((sum >> 16) != 0)
            {
                sum = (sum & 0xFFFF) + (sum >> 16);
            }

            return (ushort)~sum;
        }
    }
}

/// <summary>
/// A fact that needs softflowd. Outside CI (<c>CI</c> unset or false) a machine without softflowd skips it
/// and says why; in CI it runs and fails with a clear message, since CI installs softflowd.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class SoftflowdFactAttribute : FactAttribute
{
    public SoftflowdFactAttribute()
    {
        var ci = Environment.GetEnvironmentVariable("CI");
        var inCi = !string.IsNullOrEmpty(ci) && !string.Equals(ci, "false", StringComparison.OrdinalIgnoreCase) && ci != "0";
        if (Locate() is null && !inCi)
        {
            Skip = "softflowd is not installed (apt-get install softflowd); CI installs it and runs this test";
        }
    }

    public static string? Locate()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var dir in path.Split(Path.PathSeparator).Concat(["/usr/sbin", "/usr/local/sbin", "/sbin"]))
        {
            if (dir.Length > 0 && File.Exists(Path.Combine(dir, "softflowd")))
            {
                return Path.Combine(dir, "softflowd");
            }
        }

        return null;
    }
}
