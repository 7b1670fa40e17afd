using System.Globalization;
using CsCheck;
using NetObserv.Query.Loki;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Tests.Loki;

/// <summary>
/// Query time parameters in every form Loki reads (integer seconds, integer nanoseconds, float seconds,
/// RFC 3339), checked over the whole range of a nanosecond timestamp: exact inside it, a 400 outside.
/// </summary>
public sealed class LokiParametersTests
{
    private const long Fallback = 42;

    /// <summary>Seconds whose nanoseconds an <see cref="long"/> holds.</summary>
    private const long MaxSeconds = long.MaxValue / 1_000_000_000;

    private static string Text(long value) => value.ToString(CultureInfo.InvariantCulture);

    [Fact]
    public void ParseTime_IntegersOfMoreThanTenCharacters_AreExactNanoseconds()
    {
        Gen.Long.Where(v => Text(v).Length > 10).Sample(ns => Assert.Equal(ns, LokiParameters.ParseTime(Text(ns), Fallback, "t")));
    }

    [Fact]
    public void ParseTime_IntegersOfUpToTenCharacters_AreSecondsOrOutOfRange()
    {
        Gen.Long[-999_999_999, 9_999_999_999].Sample(seconds =>
        {
            if (seconds <= MaxSeconds)
            {
                Assert.Equal(seconds * 1_000_000_000, LokiParameters.ParseTime(Text(seconds), Fallback, "t"));
            }
            else
            {
                var ex = Assert.Throws<QueryException>(() => LokiParameters.ParseTime(Text(seconds), Fallback, "time"));
                Assert.StartsWith($"invalid parameter \"time\": {Text(seconds)} is outside the supported range", ex.Message,
                    StringComparison.Ordinal);
            }
        });
    }

    [Fact]
    public void ParseTime_Rfc3339WithNanoseconds_IsExact()
    {
        Gen.Long.Sample(ns =>
        {
            var seconds = Math.DivRem(ns, 1_000_000_000, out var fraction);
            if (fraction < 0)
            {
                seconds--;
                fraction += 1_000_000_000;
            }

            var text = DateTimeOffset.FromUnixTimeSeconds(seconds).ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture)
                + "." + fraction.ToString("D9", CultureInfo.InvariantCulture) + "Z";
            Assert.Equal(ns, LokiParameters.ParseTime(text, Fallback, "t"));
        });
    }

    [Fact]
    public void ParseTime_FloatSeconds_RoundedToMillisecondsOrOutOfRange()
    {
        Gen.Double[-1e12, 1e12].Sample(value =>
        {
            var text = value.ToString("0.0########", CultureInfo.InvariantCulture);
            var parsed = double.Parse(text, CultureInfo.InvariantCulture);
            var whole = Math.Truncate(parsed);
            if (Math.Abs(whole) <= MaxSeconds - 1)
            {
                var expected = ((long)whole * 1_000_000_000) + ((long)Math.Round((parsed - whole) * 1000, MidpointRounding.AwayFromZero) * 1_000_000);
                Assert.Equal(expected, LokiParameters.ParseTime(text, Fallback, "t"));
            }
            else if (Math.Abs(whole) > MaxSeconds + 1)
            {
                Assert.Throws<QueryException>(() => LokiParameters.ParseTime(text, Fallback, "t"));
            }
        });
    }

    [Theory]
    [InlineData("1677-09-21T00:12:43.145224192Z", long.MinValue)]
    [InlineData("2262-04-11T23:47:16.854775807Z", long.MaxValue)]
    [InlineData("2262-04-12T01:47:16.854775807+02:00", long.MaxValue)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("9223372036", 9_223_372_036_000_000_000)]
    [InlineData("-9223372036.854", -9_223_372_036_854_000_000)]
    public void ParseTime_EdgesOfTheRange_Exact(string text, long expected)
    {
        Assert.Equal(expected, LokiParameters.ParseTime(text, Fallback, "t"));
    }

    [Theory]
    [InlineData("9999999999")]
    [InlineData("1.0e30")]
    [InlineData("-1.0e300")]
    [InlineData("NaN.")]
    [InlineData("9999-12-31T23:59:59Z")]
    [InlineData("2262-04-12T00:00:00Z")]
    [InlineData("1677-09-21T00:00:00Z")]
    public void ParseTime_OutsideNanosecondRange_QueryException(string text)
    {
        var ex = Assert.Throws<QueryException>(() => LokiParameters.ParseTime(text, Fallback, "end"));

        Assert.StartsWith("invalid parameter \"end\": ", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1e30")]
    [InlineData("-1e30")]
    [InlineData("NaN")]
    [InlineData("-Infinity")]
    [InlineData("9223372036854775.808")]
    public void ParseStep_Overflowing_QueryException(string text)
    {
        var ex = Assert.Throws<QueryException>(() => LokiParameters.ParseStep(text));

        Assert.StartsWith($"invalid parameter \"step\": cannot parse \"{text}\" to a valid duration", ex.Message,
            StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("15", 15_000)]
    [InlineData("1.5", 1_500)]
    [InlineData("15000ms", 15_000)]
    [InlineData("1m30s", 90_000)]
    public void ParseStep_SecondsOrDuration_Milliseconds(string text, long expected)
    {
        Assert.Equal(expected, LokiParameters.ParseStep(text));
    }
}
