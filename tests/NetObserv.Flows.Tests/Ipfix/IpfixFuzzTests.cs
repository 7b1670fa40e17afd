using System.Buffers.Binary;
using System.Globalization;
using System.Net;
using CsCheck;
using NetObserv.Flows.Ipfix;
using Xunit.Abstractions;
using F = NetObserv.Flows.Tests.Ipfix.IpfixTestMessage.Field;

namespace NetObserv.Flows.Tests.Ipfix;

/// <summary>
/// Seeded mutation of valid IPFIX and NetFlow v9 packets: bit flips, truncation, rewritten length and
/// count fields, inserted and deleted bytes. No exception may escape, and valid packets decoded
/// afterwards by the same decoder must still come out right. The default run is short; set
/// <c>NETOBSERV_FUZZ_ITERATIONS</c> for a long one (and <c>NETOBSERV_FUZZ_SEED</c> to vary the seed).
/// </summary>
public sealed class IpfixFuzzTests(ITestOutputHelper output)
{
    private const int DefaultIterations = 3000;

    // A fresh decoder (templates, caches) is the constant; a data set yields a FlowRecord (about 400 bytes
    // with its KubernetesMetadata) per record, and a record can be as short as 1 byte. 512 bytes per byte.
    private const long BytesPerInputByte = 512;
    private const long FixedBytes = 256 * 1024;

    private static readonly byte[] s_interesting = [0x00, 0x01, 0x02, 0x03, 0x04, 0x09, 0x0A, 0x7F, 0x80, 0xFF];

    /// <summary>Random bytes, alone or behind a valid IPFIX or NetFlow v9 header with the right length.</summary>
    [Fact]
    public void Fuzz_RandomPackets_NeverThrowsAllocationBounded()
    {
        var inputs = Gen.OneOf(
            Gen.Byte.Array[0, 256],
            Gen.Select(Gen.Byte.Array[0, 1400], Gen.Bool, Gen.UShort, (rest, v9, id) =>
            {
                var header = new byte[v9 ? 20 : 16];
                BinaryPrimitives.WriteUInt16BigEndian(header, (ushort)(v9 ? 9 : 10));
                BinaryPrimitives.WriteUInt16BigEndian(header.AsSpan(2),
                    (ushort)(v9 ? id % 64 : header.Length + rest.Length));
                byte[] packet = [.. header, .. rest];
                if (rest.Length >= 4)
                {
                    // The first set: a template set (or, one time in two, the id drawn) holding the rest.
                    BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(header.Length),
                        id % 2 == 0 ? (ushort)(v9 ? 0 : 2) : id);
                    BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(header.Length + 2), (ushort)rest.Length);
                }

                return packet;
            }));

        var worst = FuzzRun.Check("ipfix random", inputs, b => IpfixDecoder.Fuzz(b), null, BytesPerInputByte,
            FixedBytes, 3_000);

        output.WriteLine($"ipfix random: at most {worst:F1} bytes allocated per input byte");
    }

    [Fact]
    public void Fuzz_MutatedPackets_NeverThrowsAllocationBounded()
    {
        var worst = FuzzRun.Check("ipfix mutated", FuzzRun.Mutations(Corpus(), s_interesting),
            b => IpfixDecoder.Fuzz(b), null, BytesPerInputByte, FixedBytes, 3_000);

        output.WriteLine($"ipfix mutated: at most {worst:F1} bytes allocated per input byte");
    }

    [Fact]
    public void Decode_MutatedPackets_NeverThrowsAndValidPacketsStillDecode()
    {
        var iterations = ReadInt("NETOBSERV_FUZZ_ITERATIONS", DefaultIterations);
        var seed = ReadInt("NETOBSERV_FUZZ_SEED", 20261125);
        var random = new Random(seed);
        var decoder = new IpfixDecoder();
        var corpus = Corpus();
        var exporters = new[] { IPAddress.Parse("198.51.100.1"), IPAddress.Parse("198.51.100.2"), IPAddress.Parse("2001:db8::9") };
        var output = new List<FlowRecord>();

        for (var i = 0; i < iterations; i++)
        {
            var input = Mutate(corpus[random.Next(corpus.Length)], random);
            try
            {
                output.Clear();
                decoder.Decode(input, exporters[random.Next(exporters.Length)], output);
                IpfixDecoder.Fuzz(input);
            }
            catch (Exception e)
            {
                Assert.Fail($"seed {seed} iteration {i}: {e.GetType().Name}: {e.Message}\ninput: {Convert.ToHexString(input)}\n{e}");
            }
        }

        // A fresh exporter on the same, well-fuzzed decoder: the valid packets decode exactly.
        var clean = IPAddress.Parse("203.0.113.7");
        output.Clear();
        foreach (var packet in corpus)
        {
            var result = decoder.Decode(packet, clean, output);
            Assert.True(result.IsClean, $"valid packet reported {result.Reason}: {Convert.ToHexString(packet)}");
        }

        Assert.Equal(s_expectedBytes, output.Select(r => r.Bytes).ToArray());
        Assert.Equal(s_expectedPackets, output.Select(r => r.Packets).ToArray());
        Assert.All(output.Take(2), r => Assert.Equal(IPAddress.Parse("10.9.8.7"), r.SrcAddr));
        Assert.Equal(16, output[2].Sampling);
    }

    private static readonly long[] s_expectedBytes = [1500, 40, 777, 9000];
    private static readonly long[] s_expectedPackets = [3, 1, 7, 6];

    /// <summary>Valid packets: IPFIX template + data, options + data with a variable-length and an enterprise field, v9.</summary>
    internal static byte[][] Corpus()
    {
        var ipfix = IpfixTestMessage.Ipfix()
            .Template(256, new F(8, 4), new F(12, 4), new F(7, 2), new F(11, 2), new F(4, 1), new F(1, 8), new F(2, 4),
                new F(152, 8), new F(153, 8))
            .BeginSet(256)
            .Ip("10.9.8.7").Ip("10.0.0.1").U16(1234).U16(80).U8(6).U64(1500).U32(3).U64(1_764_064_800_000).U64(1_764_064_801_000)
            .Ip("10.9.8.7").Ip("10.0.0.2").U16(1235).U16(53).U8(17).U64(40).U32(1).U64(1_764_064_800_000).U64(1_764_064_800_000)
            .EndSet().ToArray();
        var options = IpfixTestMessage.Ipfix(domain: 5)
            .BeginSet(3).OptionsTemplateRecord(300, 1, new F(48, 2), new F(34, 4), new F(160, 8)).EndSet()
            .BeginSet(300).U16(1).U32(16).U64(1_764_000_000_000).EndSet()
            .Template(301, new F(82, 65535), new F(1, 4), new F(5, 65535, Enterprise: 9), new F(2, 4), new F(22, 4), new F(21, 4))
            .BeginSet(301).U8(4).Raw("eth0"u8).U32(777).U8(2).U8(0).U8(0).U32(7).U32(10).U32(20).EndSet(padding: 3).ToArray();
        var v9 = IpfixTestMessage.NetflowV9(60_000, 1_764_064_800, sourceId: 3)
            .Template(400, new F(27, 16), new F(28, 16), new F(1, 4), new F(2, 4), new F(22, 4), new F(21, 4))
            .BeginSet(400).Ip("2001:db8::1").Ip("2001:db8::2").U32(9000).U32(6).U32(1000).U32(2000).EndSet().ToArray();
        return [ipfix, options, v9];
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = original.ToList();
        var steps = random.Next(1, 4);
        for (var s = 0; s < steps && bytes.Count > 0; s++)
        {
            switch (random.Next(6))
            {
                case 0: // bit flips
                    for (var k = random.Next(1, 9); k > 0; k--)
                    {
                        var at = random.Next(bytes.Count);
                        bytes[at] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1: // truncation
                    {
                        var keep = random.Next(bytes.Count);
                        bytes.RemoveRange(keep, bytes.Count - keep);
                    }

                    break;
                case 2: // a 16-bit length / count / id field somewhere gets an interesting value
                    {
                        var at = random.Next(Math.Max(1, bytes.Count - 1)) & ~1;
                        ushort[] values = [0, 1, 3, 4, 5, 255, 256, 0x7FFF, 0x8000, 0xFFFE, 0xFFFF];
                        var value = random.Next(3) == 0 ? (ushort)random.Next(65536) : values[random.Next(values.Length)];
                        if (at + 1 < bytes.Count)
                        {
                            bytes[at] = (byte)(value >> 8);
                            bytes[at + 1] = (byte)value;
                        }

                        break;
                    }

                case 3: // the message or a set length field
                    {
                        int[] lengthOffsets = [2, 18, 22, 26, 30];
                        var at = lengthOffsets[random.Next(lengthOffsets.Length)];
                        if (at + 1 < bytes.Count)
                        {
                            var value = (ushort)(((bytes[at] << 8) | bytes[at + 1]) + random.Next(-8, 9));
                            bytes[at] = (byte)(value >> 8);
                            bytes[at + 1] = (byte)value;
                        }

                        break;
                    }

                case 4: // inserted random bytes
                    bytes.InsertRange(random.Next(bytes.Count + 1), Enumerable.Range(0, random.Next(1, 9)).Select(_ => (byte)random.Next(256)));
                    break;
                default: // deleted bytes
                    {
                        var at = random.Next(bytes.Count);
                        bytes.RemoveRange(at, Math.Min(bytes.Count - at, random.Next(1, 9)));
                        break;
                    }
            }
        }

        return [.. bytes];
    }

    private static int ReadInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : fallback;
}
