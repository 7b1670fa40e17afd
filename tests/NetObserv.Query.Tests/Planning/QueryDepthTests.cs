using NetObserv.Flows;
using NetObserv.Query.Access;
using NetObserv.Query.LogQL;
using NetObserv.Query.Planning;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.Planning;

/// <summary>Queries nested just under <see cref="LogQLParser.MaxDepth"/> are planned and evaluated like shallow ones.</summary>
public sealed class QueryDepthTests : IClassFixture<QueryDataFixture>
{
    private readonly QueryDataFixture _data;

    public QueryDepthTests(QueryDataFixture data)
    {
        _data = data;
    }

    /// <summary>An instant query at the end of the hour of test flows (its whole 30 minutes are in a 1h range).</summary>
    private async Task<QueryResult> InstantAsync(string query)
    {
        var ns = (TestFlows.OriginMs + 3_600_000) * 1_000_000;
        var request = new QueryRequest(query, ns, ns, 60_000, 100, false, true, new FlowAccess([FlowRecord.DefaultTenant]));
        return await _data.Engine().ExecuteAsync(request, QueryEngine.Parse(query), CancellationToken.None).DefaultTimeout();
    }

    [Theory]
    [InlineData("parentheses", 200, 1)]
    [InlineData("sum", 200, 1)]
    [InlineData("addition", 200, 200)]
    [InlineData("unary-minus", 201, -1)]
    public async Task Execute_NestedJustUnderTheLimit_GivesTheValue(string shape, int count, double expected)
    {
        var result = await InstantAsync(DeepLogQL.Build(shape, count));

        var value = result switch
        {
            ScalarResult s => s.Value,
            VectorResult v => Assert.Single(v.Samples).Value,
            _ => throw new InvalidOperationException(result.GetType().Name),
        };
        Assert.Equal(expected, value);
    }

    [Fact]
    public async Task Execute_NestedAggregationsAndArithmetic_GivesTheShallowAnswer()
    {
        // 100 sums around count_over_time, minus (0 - ...) 100 times: 201 levels.
        const string Leaf = "count_over_time({app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"ns-b\"}[1h])";
        var deep = string.Concat(Enumerable.Repeat("- sum(", 100)) + Leaf + new string(')', 100);

        var result = Assert.IsType<VectorResult>(await InstantAsync(deep));

        var expected = _data.Records.Count(r => r.Tenant == FlowRecord.DefaultTenant && r.Src.Namespace == "ns-b");
        Assert.Equal(expected, Assert.Single(result.Samples).Value);
    }

    [Fact]
    public async Task Execute_LabelFilterOrChainJustUnderTheLimit_KeepsEveryTerm()
    {
        // 199 terms that match nothing, then one that matches: a 200-deep left-leaning tree, down to the SQL.
        var filters = string.Join(" or ", Enumerable.Repeat("SrcK8S_Namespace=\"none\"", 199)) + " or SrcK8S_Namespace=\"ns-b\"";
        var query = "sum(count_over_time({app=\"netobserv-flowcollector\"} | " + filters + " [1h]))";

        var result = Assert.IsType<VectorResult>(await InstantAsync(query));

        var expected = _data.Records.Count(r => r.Tenant == FlowRecord.DefaultTenant && r.Src.Namespace == "ns-b");
        Assert.Equal(expected, Assert.Single(result.Samples).Value);
    }

    [Fact]
    public async Task Execute_BalancedLabelFiltersPastTheParameterLimit_IsAQueryError()
    {
        // 2^17 terms 17 levels deep (well within the nesting limit): more values than one statement can carry.
        var query = "sum(count_over_time({app=\"netobserv-flowcollector\"} | " + Balanced(17) + " [1h]))";

        var error = await Assert.ThrowsAsync<QueryException>(() => InstantAsync(query));

        Assert.Contains("65,535", error.Message, StringComparison.Ordinal);
    }

    private static string Balanced(int depth) => depth == 0
        ? "SrcK8S_Namespace=\"none\""
        : "(" + Balanced(depth - 1) + " or " + Balanced(depth - 1) + ")";
}
