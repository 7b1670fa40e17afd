using System.Net;
using System.Text;
using NetObserv.Storage.Spill;

namespace NetObserv.Storage.Tests.Spill;

/// <summary>The spill and journal payloads keep their format: <see cref="SpillBuffer"/> writes what <see cref="BinaryWriter"/> wrote.</summary>
public sealed class SpillBufferTests
{
    public static TheoryData<string> Texts => new()
    {
        "",
        "a",
        new string('x', 127),
        new string('y', 128),
        new string('z', 20_000),
        "caf\u00e9 \u4e2d\u6587 \ud83d\ude00",
        "lone \ud800 high and \udc00 low",
        "\ud83d",
        "nul\0inside",
        new string('\u00e9', 70),
    };

    [Theory]
    [MemberData(nameof(Texts))]
    public void Utf8_SameBytesAsBinaryWriter(string text)
    {
        var buffer = new SpillBuffer(3, 1);
        try
        {
            buffer.Utf8(text);
            buffer.Count(text.Length * 1000);
            buffer.Int32(-5);
            buffer.Int64(long.MinValue);
            buffer.UInt64(ulong.MaxValue);
            buffer.Byte(7);
            buffer.Address(IPAddress.Parse("10.1.2.3"));
            buffer.Address(IPAddress.Parse("fe80::1"));

            using var expected = new MemoryStream();
            using (var w = new BinaryWriter(expected, new UTF8Encoding(false, false), leaveOpen: true))
            {
                w.Write(new byte[3]);
                w.Write(text);
                w.Write7BitEncodedInt(text.Length * 1000);
                w.Write(-5);
                w.Write(long.MinValue);
                w.Write(ulong.MaxValue);
                w.Write((byte)7);
                w.Write((byte)4);
                w.Write(IPAddress.Parse("10.1.2.3").GetAddressBytes());
                w.Write((byte)16);
                w.Write(IPAddress.Parse("fe80::1").GetAddressBytes());
            }

            // The 3 reserved bytes (a header's room) are not written by the buffer.
            Assert.Equal(expected.ToArray()[3..], buffer.Array.AsSpan(3, buffer.Length - 3).ToArray());
        }
        finally
        {
            buffer.Return();
        }
    }
}
