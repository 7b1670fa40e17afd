using NetObserv.Flows;
using NetObserv.Query.Planning;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.Planning;

/// <summary>
/// Query forms the NetObserv console plugin sends (its Go tests' expected LogQL), run on known flows and
/// checked against counts and sums computed here from the same records.
/// </summary>
public sealed class ConsoleQueryTests : IClassFixture<QueryDataFixture>
{
    private const string App = "app=\"netobserv-flowcollector\"";
    private readonly QueryDataFixture _data;

    public ConsoleQueryTests(QueryDataFixture data)
    {
        _data = data;
    }

    private static long Ms(int minutes) => TestFlows.OriginMs + (minutes * 60_000L);

    private static QueryRequest Range(string query, long startMs, long stepMs, int count, int limit = 100) =>
        new(query, startMs * 1_000_000, (startMs + ((count - 1) * stepMs)) * 1_000_000, stepMs, limit, false, false,
            [FlowRecord.DefaultTenant]);

    private async Task<QueryResult> RunAsync(QueryRequest request) =>
        await _data.Engine().ExecuteAsync(request, QueryEngine.Parse(request.Query), CancellationToken.None)
            .DefaultTimeout();

    private IEnumerable<FlowRecord> Default => _data.Records.Where(r => r.Tenant == FlowRecord.DefaultTenant);

    /// <summary>The total of one series over one window of the whole data (a 40-minute step holding it all).</summary>
    private async Task<double> TotalAsync(string query)
    {
        var result = Assert.IsType<MatrixResult>(await RunAsync(Range(query, Ms(35), 2_400_000, 1)));
        return result.Series.Count == 0 ? 0 : Assert.Single(result.Series).Values[0] ?? 0;
    }

    [Theory]
    [InlineData("SrcK8S_Namespace=~\"(?i).*NS-A.*\"")]
    [InlineData("SrcK8S_Namespace=~\"ns1|(?i).*NS-A.*\"")]
    [InlineData("SrcK8S_Namespace=~\"n(?i)S-A\"")]
    [InlineData("SrcK8S_Namespace=~\"(?i:NS)-a\"")]
    [InlineData("SrcK8S_Namespace=~\"\\\\w\\\\w-[a[:digit:]]\"")]
    public async Task RegexWithFlagsInside_StreamMatcherAndLabelFilter_CountLikeRe2(string matcher)
    {
        var expected = Default.Count(r => r.Src.Namespace == "ns-a");

        var selector = await TotalAsync($"sum(count_over_time({{{App},{matcher}}}[40m]))");
        var filter = await TotalAsync($"sum(count_over_time({{{App}}}|json|{matcher}[40m]))");

        Assert.Equal(expected, selector);
        Assert.Equal(expected, filter);
    }

    [Fact]
    public async Task RegexWithFlagsInside_LogQuery_ReturnsTheMatchingLines()
    {
        var request = new QueryRequest($"{{{App},SrcK8S_Namespace=~\"(?i).*NS-A.*\"}}", Ms(0) * 1_000_000, Ms(40) * 1_000_000,
            0, 5_000, false, false, [FlowRecord.DefaultTenant]);

        var result = Assert.IsType<StreamsResult>(await RunAsync(request));

        Assert.Equal(Default.Count(r => r.Src.Namespace == "ns-a"), result.Streams.Sum(s => s.Entries.Count));
    }

    [Theory]
    [InlineData("SrcK8S_Namespace=~\"\\\\pL\"")]
    [InlineData("SrcK8S_Namespace=~\"(?=a)\"")]
    [InlineData("SrcK8S_Namespace=~\"a{1001}\"")]
    public async Task RegexNotRe2_IsAClientError(string matcher)
    {
        var ex = await Assert.ThrowsAsync<QueryException>(() => RunAsync(
            Range($"sum(count_over_time({{{App},{matcher}}}[40m]))", Ms(35), 2_400_000, 1)));

        Assert.Contains("regular expression", ex.Message, StringComparison.Ordinal);
    }
}
