using CsCheck;
using Sums = NetObserv.Storage.Rollups.RollupSums;

namespace NetObserv.Storage.Tests.Rollups;

public sealed class SaturatingSumTests
{
    [Fact]
    public void Add_AnyTwoBigints_EqualsTheExactSumHeldAtTheBounds()
    {
        // Near the bounds as often as anywhere else: that is where an overflow test can go wrong.
        var value = Gen.OneOf(Gen.Long, Gen.Long[long.MaxValue - 1_000, long.MaxValue], Gen.Long[long.MinValue, long.MinValue + 1_000],
            Gen.Long[-1_000, 1_000]);
        Gen.Select(value, value).Sample((a, b) => Assert.Equal(Sums.Saturate((Int128)a + b), Sums.Add(a, b)));
    }

    [Theory]
    [InlineData(long.MaxValue, 1, long.MaxValue)]
    [InlineData(long.MaxValue, long.MaxValue, long.MaxValue)]
    [InlineData(long.MinValue, -1, long.MinValue)]
    [InlineData(long.MinValue, long.MinValue, long.MinValue)]
    [InlineData(long.MaxValue, long.MinValue, -1)]
    [InlineData(long.MaxValue - 10, 10, long.MaxValue)]
    public void Add_AtTheBounds_Saturates(long a, long b, long expected) => Assert.Equal(expected, Sums.Add(a, b));
}
