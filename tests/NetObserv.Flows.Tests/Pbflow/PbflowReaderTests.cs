using System.Globalization;
using System.Net;
using System.Text;
using CsCheck;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using NetObserv.Flows.Pbflow;
using Xunit.Abstractions;
using Record = NetObserv.Flows.Pbflow.Record;

namespace NetObserv.Flows.Tests.Pbflow;

/// <summary>
/// <see cref="PbflowReader"/> against the generated parser and <see cref="PbflowMapper.TryMap"/>: the same
/// flows (every property) and rejections for random records, and no answer where the generated parser fails.
/// </summary>
public sealed class PbflowReaderTests(ITestOutputHelper output)
{
    private const long Received = 1_780_000_000;

    private static readonly ulong[] s_numbers =
        [0, 1, 2, 6, 17, 58, 127, 128, 0x0800, 0x86DD, 65_535, int.MaxValue, (ulong)int.MaxValue + 1, uint.MaxValue,
            (ulong)uint.MaxValue + 1, long.MaxValue, (ulong)long.MaxValue + 1, ulong.MaxValue];

    private static readonly long[] s_seconds =
        [0, 1, -1, 1_779_999_990, 9_223_372_036_854_775, 9_223_372_036_854_776, 9_223_372_036, 9_223_372_037, long.MaxValue,
            long.MinValue, -9_223_372_036_854_776];

    private static readonly int[] s_nanos = [0, 1, -1, -5, 999_999_999, 1_000_000_000, int.MaxValue, int.MinValue, 123_456_789];

    private static readonly string[] s_texts = ["", "eth0", "br-ex", "veth1234", "genev_sys_6081", "é中😀", "a\0b"];

    /// <summary>Messages of one to six random records, each field present or not.</summary>
    private static readonly Gen<byte[]> s_messages = Gen.Int.Select(seed =>
    {
        var random = new Random(seed);
        var records = new Records();
        var count = random.Next(1, 7);
        for (var i = 0; i < count; i++)
        {
            records.Entries.Add(RandomRecord(random));
        }

        return records.ToByteArray();
    });

    private static ulong Number(Random random) => s_numbers[random.Next(s_numbers.Length)];

    private static uint Small(Random random) => (uint)Math.Min(Number(random), uint.MaxValue);

    private static int Nanos(Random random) => random.Next(3) == 0 ? random.Next(0, 999_999_999) : s_nanos[random.Next(s_nanos.Length)];

    private static Direction Direction(Random random) =>
        (Direction)(random.Next(4) == 0 ? new[] { -1, 65_536, int.MaxValue, int.MinValue }[random.Next(4)] : random.Next(0, 3));

    private static bool Maybe(Random random) => random.Next(2) == 0;

    private static IP? Address(Random random) => random.Next(6) switch
    {
        0 => null,
        1 => new IP(),
        2 => new IP { Ipv4 = (uint)random.NextInt64(0, 1L << 32) },
        3 => new IP { Ipv6 = ByteString.CopyFrom(IPAddress.Parse("fd00::1:2").GetAddressBytes()) },
        4 => new IP { Ipv6 = ByteString.CopyFrom(IPAddress.Parse("::ffff:10.1.2.3").GetAddressBytes()) },
        _ => new IP { Ipv6 = ByteString.CopyFrom(new byte[random.Next(0, 20)]) },
    };

    private static Record RandomRecord(Random random)
    {
        var r = new Record();
        if (Maybe(random))
        {
            r.EthProtocol = random.Next(3) switch { 0 => 0x0800, 1 => 0x86DD, _ => Small(random) };
        }

        r.Direction = Direction(random);
        if (Maybe(random))
        {
            r.TimeFlowStart = new Timestamp { Seconds = s_seconds[random.Next(s_seconds.Length)], Nanos = Nanos(random) };
        }

        if (Maybe(random))
        {
            r.TimeFlowEnd = new Timestamp { Seconds = s_seconds[random.Next(s_seconds.Length)], Nanos = Nanos(random) };
        }

        if (Maybe(random))
        {
            r.DataLink = new DataLink { SrcMac = Number(random), DstMac = Number(random) };
        }

        if (Maybe(random))
        {
            r.Network = new Network { SrcAddr = Address(random), DstAddr = Address(random), Dscp = Small(random) };
        }

        if (Maybe(random))
        {
            r.Transport = new Transport
            {
                SrcPort = Small(random),
                DstPort = Small(random),
                Protocol = random.Next(3) == 0 ? Small(random) : new uint[] { 1, 6, 17, 58, 132 }[random.Next(5)],
            };
        }

        r.Bytes = Number(random);
        r.Packets = Maybe(random) ? Number(random) : 0;
        r.Interface = s_texts[random.Next(s_texts.Length)];
        r.Duplicate = Maybe(random);
        r.AgentIp = Address(random);
        r.Flags = Maybe(random) ? Small(random) : 0;
        r.IcmpType = Maybe(random) ? Small(random) : 0;
        r.IcmpCode = Maybe(random) ? Small(random) : 0;
        if (random.Next(3) == 0)
        {
            r.PktDropBytes = Number(random);
            r.PktDropPackets = Number(random);
            r.PktDropLatestFlags = Small(random);
            r.PktDropLatestState = Small(random);
            r.PktDropLatestDropCause = Small(random);
        }

        if (random.Next(3) == 0)
        {
            r.DnsId = Small(random);
            r.DnsFlags = Small(random);
            r.DnsName = s_texts[random.Next(s_texts.Length)];
            if (Maybe(random))
            {
                r.DnsLatency = new Duration { Seconds = s_seconds[random.Next(s_seconds.Length)], Nanos = Nanos(random) };
            }
        }

        if (Maybe(random))
        {
            r.TimeFlowRtt = new Duration { Seconds = s_seconds[random.Next(s_seconds.Length)], Nanos = Nanos(random) };
        }

        r.DnsErrno = Maybe(random) ? Small(random) : 0;
        for (var i = random.Next(4); i > 0; i--)
        {
            r.DupList.Add(new DupMapEntry
            {
                Interface = s_texts[random.Next(s_texts.Length)],
                Direction = Direction(random),
                Udn = random.Next(5) == 0 ? "primary" : "",
            });
        }

        r.Sampling = Maybe(random) ? Small(random) : 0;
        switch (random.Next(12))
        {
            case 0:
                r.NetworkEventsMetadata.Add(new NetworkEvent { Events = { ["Action"] = "drop", ["Name"] = "np1" } });
                break;
            case 1:
                r.Xlat = new Xlat { SrcAddr = Address(random), DstAddr = Address(random), ZoneId = 3, SrcPort = 80 };
                break;
            case 2:
                r.Quic = new Quic { Version = 1 };
                break;
            case 3:
                r.SslVersion = 0x0304;
                r.TlsTypes = 3;
                r.TlsCipherSuite = 0x1301;
                r.TlsKeyShare = 29;
                r.SslMismatch = Maybe(random);
                break;
            case 4:
                r.IpsecEncrypted = 1;
                r.IpsecEncryptedRet = random.Next(-2, 2);
                break;
        }

        return r;
    }

    /// <summary>Reads <paramref name="message"/> both ways and checks they agree (or the reader declines).</summary>
    private static bool Compare(byte[] message)
    {
        var read = PbflowReader.TryRead(message, 0, Received);
        Records reference;
        try
        {
            reference = Records.Parser.ParseFrom(message);
        }
        catch (InvalidProtocolBufferException)
        {
            Assert.Null(read);
            throw;
        }

        if (read is null)
        {
            return false;
        }

        Assert.Equal(reference.Entries.Count, read.Count);
        for (var i = 0; i < read.Count; i++)
        {
            var expected = PbflowMapper.TryMap(reference.Entries[i], Received, out var rejection);
            Assert.Equal(rejection, read[i].Rejection);
            Assert.Equal(Describe(expected), Describe(read[i].Flow));
        }

        return true;
    }

    /// <summary>Every public property of a flow (and of its Kubernetes metadata) as text.</summary>
    internal static string Describe(object? value)
    {
        if (value is null)
        {
            return "null";
        }

        var text = new StringBuilder();
        foreach (var property in value.GetType().GetProperties().OrderBy(p => p.Name, StringComparer.Ordinal))
        {
            var v = property.GetValue(value);
            text.Append(property.Name).Append('=').Append(v switch
            {
                null => "null",
                KubernetesMetadata m => "{" + Describe(m) + "}",
                string s => "\"" + s + "\"",
                System.Collections.IEnumerable list => "[" + string.Join(",", list.Cast<object>()) + "]",
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                _ => v.ToString(),
            }).Append("; ");
        }

        return text.ToString();
    }

    [Fact]
    public void TryRead_RandomRecords_SameFlowsAndRejectionsAsTheGeneratedParser()
    {
        var declined = 0;
        var count = FuzzRun.Iterations(3_000);
        var pcg = new PCG(7, 20_261_203);
        for (var i = 0; i < count; i++)
        {
            var message = s_messages.Generate(pcg, null, out _);
            if (!Compare(message))
            {
                declined++;
            }
        }

        // Well-formed messages of entries are always read (records with extras go through the generated path).
        Assert.Equal(0, declined);
        output.WriteLine($"{count} random messages read as the generated parser reads them");
    }

    [Fact]
    public void TryRead_MutatedMessages_AgreesOrDeclines()
    {
        var corpus = Enumerable.Range(1, 8).Select(seed => s_messages.Generate(new PCG(11, (ulong)seed), null, out _))
            .ToArray();
        var worst = FuzzRun.Check("pbflow reader mutated", FuzzRun.Mutations(corpus, [0x00, 0x01, 0x0A, 0x12, 0x7F, 0x80, 0xFF]),
            message => Compare(message), typeof(InvalidProtocolBufferException), 2_000, 256 * 1024, 4_000);

        output.WriteLine($"at most {worst:F1} bytes allocated per input byte (both parsers)");
    }

    [Fact]
    public void TryRead_RecordsWithAndWithoutExtras_EachAsTheMapperMapsIt()
    {
        var tcp = PbflowMapperTests.TcpRecord();
        var plain = PbflowMapperTests.TcpRecord();
        plain.DupList[0].Udn = "";
        var tls = new Record { EthProtocol = 0x0800, SslVersion = 0x0303, DnsId = 5, DnsFlags = 3 };
        var message = new Records { Entries = { tcp, plain, tls, new Record(), new Record { Bytes = ulong.MaxValue } } };

        var read = PbflowReader.TryRead(message.ToByteArray(), 5, Received)!;

        Assert.Equal(5, read.Count);
        Assert.Contains("\"Udns\":[\"primary\",\"\"]", read[0].Flow!.ExtraFields, StringComparison.Ordinal);
        Assert.Equal("""{"DnsFlagsResponseCode":"NoError","PktDropLatestFlags":16}""", read[1].Flow!.ExtraFields);
        Assert.Equal(["veth1234", "br-ex"], read[1].Flow!.Interfaces!);
        Assert.Equal(IPAddress.Parse("10.128.0.5"), read[1].Flow!.SrcAddr);
        Assert.Equal("""{"DnsFlagsResponseCode":"NXDomain","TLSVersion":"TLS 1.2"}""", read[2].Flow!.ExtraFields);
        Assert.Null(read[3].Flow!.ExtraFields);
        Assert.Null(read[4].Flow);
        Assert.Equal("Bytes", read[4].Rejection.Field);
        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(Describe(PbflowMapper.TryMap(message.Entries[i], Received, out _)), Describe(read[i].Flow));
        }
    }

    [Theory]
    [InlineData(new byte[] { 0x0A, 0x05, 0x08 })] // entry longer than the message
    [InlineData(new byte[] { 0x12, 0x00 })] // a field other than entries
    [InlineData(new byte[] { 0x0A, 0x02, 0x40, 0xFF })] // truncated varint in a record
    [InlineData(new byte[] { 0x0A, 0x01, 0x00 })] // tag 0
    public void TryRead_NotWellFormed_DeclinesForTheGeneratedParser(byte[] message)
    {
        Assert.Null(PbflowReader.TryRead(message, 1, Received));
    }

    [Fact]
    public void TryRead_RepeatedInterfaceNames_OneStringEachAndLongNamesRight()
    {
        var longName = new string('x', 65) + "é";
        var message = new Records();
        for (var i = 0; i < 3; i++)
        {
            message.Entries.Add(new Record
            {
                Interface = "eth0",
                DupList = { new DupMapEntry { Interface = "genev_sys_6081" }, new DupMapEntry { Interface = longName } },
            });
        }

        message.Entries.Add(new Record { Interface = "eth1" });
        var read = PbflowReader.TryRead(message.ToByteArray(), 4, Received)!;

        Assert.Same(read[0].Flow!.Interfaces![0], read[2].Flow!.Interfaces![0]);
        Assert.Equal(["genev_sys_6081", longName], read[1].Flow!.Interfaces!);
        Assert.Equal(["eth1"], read[3].Flow!.Interfaces!);
    }
}
