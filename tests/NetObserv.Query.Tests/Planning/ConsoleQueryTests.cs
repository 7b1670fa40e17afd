using System.Net;
using NetObserv.Flows;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.Planning;

/// <summary>
/// Query forms the NetObserv console plugin sends (its Go tests' expected LogQL), run on known flows and
/// checked against counts and sums computed here from the same records.
/// </summary>
public sealed class ConsoleQueryTests : IClassFixture<ConsoleDataFixture>
{
    private const string App = "app=\"netobserv-flowcollector\"";
    private readonly ConsoleDataFixture _data;

    public ConsoleQueryTests(ConsoleDataFixture data)
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

    private static bool In(IPAddress? address, string value) =>
        address is not null && IpFilterValue.Parse(value)!.Contains(address);

    [Theory]
    [InlineData("SrcAddr", "10.0.0.17")]
    [InlineData("SrcAddr", "10.0.0.0/28")]
    [InlineData("SrcAddr", "10.0.0.77/26")]
    [InlineData("DstAddr", "10.1.0.10-10.1.0.120")]
    [InlineData("SrcAddr", "fd00::8")]
    [InlineData("SrcAddr", "fd00::/120")]
    [InlineData("DstAddr", "fd01::10-fd01::40")]
    [InlineData("DstAddr", "0.0.0.0/0")]
    [InlineData("DstAddr", "::/0")]
    public async Task IpFilter_EqualAndNotEqual_CountLikeLoki(string field, string value)
    {
        Func<FlowRecord, IPAddress?> get = field == "SrcAddr" ? r => r.SrcAddr : r => r.DstAddr;
        var inside = Default.Count(r => In(get(r), value));
        var outside = Default.Count(r => get(r) is not null && !In(get(r), value));
        Assert.True(inside > 0 && outside > 0);

        var equal = await TotalAsync($"sum(count_over_time({{{App}}}|json|{field}=ip(\"{value}\")[40m]))");
        var notEqual = await TotalAsync($"sum(count_over_time({{{App}}}|json|{field}!=ip(\"{value}\")[40m]))");

        Assert.Equal(inside, equal);
        Assert.Equal(outside, notEqual);
    }

    [Fact]
    public async Task IpFilter_OrGroupAndAndChain_AsThePluginWritesThem()
    {
        // "OR IP filters" and "NOT IP filters" of the plugin's server_flows_test.go, with a label filter before.
        var a = Default.First(r => r.SrcAddr?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork).SrcAddr!;
        var b = Default.First(r => r.SrcAddr?.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6).SrcAddr!;
        var or = $"{{{App},SrcK8S_Namespace=\"ns-a\"}}|json|SrcAddr=ip(\"{a}\") or SrcAddr=ip(\"{b}\")";
        var not = $"{{{App},SrcK8S_Namespace=\"ns-a\"}}|json|SrcAddr!=ip(\"{a}\")|SrcAddr!=ip(\"{b}\")";
        var nsA = Default.Where(r => r.Src.Namespace == "ns-a").ToList();

        Assert.Equal(nsA.Count(r => a.Equals(r.SrcAddr) || b.Equals(r.SrcAddr)),
            await TotalAsync($"sum(count_over_time({or}[40m]))"));
        Assert.Equal(nsA.Count(r => r.SrcAddr is not null && !a.Equals(r.SrcAddr) && !b.Equals(r.SrcAddr)),
            await TotalAsync($"sum(count_over_time({not}[40m]))"));

        var logs = new QueryRequest(or, Ms(0) * 1_000_000, Ms(40) * 1_000_000, 0, 5_000, false, false,
            [FlowRecord.DefaultTenant]);
        var streams = Assert.IsType<StreamsResult>(await RunAsync(logs));
        Assert.Equal(nsA.Count(r => a.Equals(r.SrcAddr) || b.Equals(r.SrcAddr)), streams.Streams.Sum(s => s.Entries.Count));
    }

    [Fact]
    public async Task IpFilter_AbsentField_NeverMatches()
    {
        Assert.Contains(Default, r => r.SrcAddr is null);

        var notEqual = await TotalAsync($"sum(count_over_time({{{App}}}|json|AgentIP!=ip(\"10.0.0.1\")[40m]))");
        var unknown = await TotalAsync($"sum(count_over_time({{{App}}}|json|NoSuchField!=ip(\"10.0.0.1\")[40m]))");
        var name = await TotalAsync($"sum(count_over_time({{{App}}}|json|SrcK8S_Name=ip(\"10.0.0.1\")[40m]))");

        Assert.Equal(0, notEqual);
        Assert.Equal(0, unknown);
        Assert.Equal(0, name);
    }

    [Theory]
    [InlineData("10.0.0")]
    [InlineData("10.0.0.1/33")]
    [InlineData("10.0.0.9-10.0.0.1")]
    [InlineData("10.0.0.1-fd00::1")]
    [InlineData("name")]
    public void IpFilter_InvalidValue_IsAParseError(string value) =>
        Assert.Throws<QueryException>(() => QueryEngine.Parse($"{{{App}}}|json|SrcAddr=ip(\"{value}\")"));

    [Fact]
    public void IpFilter_CompiledToSqlOnInet_ValuesAsParameters()
    {
        var plan = new MetricPlanner(["app"], new EvaluationGrid(Ms(40), 60_000, 1), 0, ["default"])
            .Plan(LogQLParser.Parse($"sum(count_over_time({{{App}}}|json|SrcAddr=ip(\"10.0.0.0/8\") or DstAddr!=ip(\"fd00::1-fd00::9\")[1m]))"));

        Assert.Contains("src_addr <<= $", plan.Sql, StringComparison.Ordinal);
        Assert.Contains("dst_addr BETWEEN $", plan.Sql, StringComparison.Ordinal);
        Assert.DoesNotContain("10.0.0", plan.Sql, StringComparison.Ordinal);
        Assert.Empty(plan.LineFilterLeaves);
    }
}
