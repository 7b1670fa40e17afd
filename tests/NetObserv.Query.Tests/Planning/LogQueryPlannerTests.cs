using NetObserv.Query.Access;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Tests.Planning;

public sealed class LogQueryPlannerTests
{
    private static QueryRequest Request(long startNs, long endNs, bool forward) =>
        new("{app=\"netobserv-flowcollector\"}", startNs, endNs, 1000, 100, forward, false, new FlowAccess(["default"]));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Windows_DayRange_TileTheRangeFromTheNewestEndAndGrowFourfold(bool forward)
    {
        const long Day = 86_400_000_000_000;
        var start = 1_700_000_017_000_000_000;
        var windows = LogQueryPlanner.Windows(Request(start, start + Day, forward));

        Assert.Equal(Day / LogQueryPlanner.FirstWindowShare, windows[0].ToNs - windows[0].FromNs);
        Assert.Equal(forward ? start : start + Day, forward ? windows[0].FromNs : windows[0].ToNs);
        for (var i = 1; i < windows.Count; i++)
        {
            // Contiguous, in reading order, each (but the last) four times the one before.
            Assert.Equal(forward ? windows[i - 1].ToNs : windows[i - 1].FromNs, forward ? windows[i].FromNs : windows[i].ToNs);
            if (i < windows.Count - 1)
            {
                Assert.Equal(4 * (windows[i - 1].ToNs - windows[i - 1].FromNs), windows[i].ToNs - windows[i].FromNs);
            }
        }

        Assert.Equal(Day, windows.Sum(w => w.ToNs - w.FromNs));
        Assert.Equal(forward ? start + Day : start, forward ? windows[^1].ToNs : windows[^1].FromNs);
    }

    [Fact]
    public void Windows_ShortOrEmptyRange_OneWindow()
    {
        Assert.Equal([(5L, 5L)], LogQueryPlanner.Windows(Request(5, 5, false)));
        Assert.Equal([(0L, 30_000_000_000L)], LogQueryPlanner.Windows(Request(0, 30_000_000_000, false)));
    }
}
