using System.Text.Json;
using NetObserv.Query.Loki;

namespace NetObserv.Query.Tests.Loki;

public sealed class LokiResponseWriterTests
{
    private static string Sample(long timestampMs, double value)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            LokiResponseWriter.WriteSample(writer, timestampMs, value);
        }

        // As a client reads it: the raw number and the decoded string.
        using var document = JsonDocument.Parse(stream.ToArray());
        var root = document.RootElement;
        Assert.Equal(2, root.GetArrayLength());
        return $"[{root[0].GetRawText()},\"{root[1].GetString()}\"]";
    }

    [Theory]
    [InlineData(1_700_000_000_000L, 0.0, "[1700000000,\"0\"]")]
    [InlineData(1_700_000_000_000L, 1.5, "[1700000000,\"1.5\"]")]
    [InlineData(1_700_000_000_250L, 1.5, "[1700000000.25,\"1.5\"]")]
    [InlineData(1_700_000_000_001L, -2.0, "[1700000000.001,\"-2\"]")]
    [InlineData(0L, 0.1, "[0,\"0.1\"]")]
    [InlineData(4_000_000_000_000L, 2.0, "[4000000000,\"2\"]")]
    [InlineData(1_700_000_000_000L, 123456789.125, "[1700000000,\"123456789.125\"]")]
    [InlineData(1_700_000_000_000L, 1e21, "[1700000000,\"1000000000000000000000\"]")]
    [InlineData(1_700_000_000_000L, 2.5e-7, "[1700000000,\"0.00000025\"]")]
    [InlineData(1_700_000_000_000L, double.NaN, "[1700000000,\"NaN\"]")]
    [InlineData(1_700_000_000_000L, double.PositiveInfinity, "[1700000000,\"+Inf\"]")]
    [InlineData(1_700_000_000_000L, double.NegativeInfinity, "[1700000000,\"-Inf\"]")]
    public void WriteSample_Value_PrometheusText(long timestampMs, double value, string expected)
    {
        Assert.Equal(expected, Sample(timestampMs, value));
    }

    [Fact]
    public void WriteSample_ManyValues_SameTextAsFormatValue()
    {
        var random = new Random(3);
        for (var i = 0; i < 10_000; i++)
        {
            var value = Math.Pow(10, random.Next(-12, 25)) * (random.NextDouble() - 0.3);
            var ms = 1_700_000_000_000L + (random.Next(0, 4) == 0 ? random.Next(0, 1000) : random.Next(0, 1000) * 1000L);
            Assert.Equal($"[{LokiResponseWriter.FormatSeconds(ms)},\"{LokiResponseWriter.FormatValue(value)}\"]",
                Sample(ms, value));
        }
    }
}
