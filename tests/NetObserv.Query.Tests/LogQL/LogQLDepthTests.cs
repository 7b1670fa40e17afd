using NetObserv.Query.LogQL;
using NetObserv.Testing;

namespace NetObserv.Query.Tests.LogQL;

/// <summary>Issue 10, "Crash": nesting is bounded and answered as a parse error with the position.</summary>
public sealed class LogQLDepthTests
{
    [Theory]
    [MemberData(nameof(DeepLogQL.Shapes), MemberType = typeof(DeepLogQL))]
    public void Parse_IssueSizedNesting_ThrowsParseErrorAtTheLevelPastTheLimit(string shape)
    {
        var count = DeepLogQL.IssueSizes[shape];
        var query = DeepLogQL.Build(shape, count);

        var error = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));

        var at = DeepLogQL.RejectedAt(shape, count, LogQLParser.MaxDepth);
        Assert.StartsWith(DeepLogQL.Position(at), error.Message, StringComparison.Ordinal);
        Assert.Contains("256", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(DeepLogQL.Shapes), MemberType = typeof(DeepLogQL))]
    public void Parse_NestingAtTheLimit_ParsesAndPrintsBackToTheSameTree(string shape)
    {
        // Chains have one operator fewer than terms; the sign right before a number opens no level.
        var count = shape is "parentheses" or "sum" ? LogQLParser.MaxDepth : LogQLParser.MaxDepth + 1;

        var expr = LogQLParser.Parse(DeepLogQL.Build(shape, count));
        var printed = LogQLFormatter.Format(expr);

        Assert.Equal(LogQLTree.Dump(expr), LogQLTree.Dump(LogQLParser.Parse(printed)));
        Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(DeepLogQL.Build(shape, count + 1)));
    }

    [Fact]
    public void Parse_LabelFiltersInsideAggregations_CountTowardsOneLimit()
    {
        // 199 aggregations around a range aggregation (one level) whose label filter chain is 56 deep (57 terms).
        var filters = string.Join(" or ", Enumerable.Repeat("Proto=\"6\"", 57));
        var inner = "count_over_time({app=\"x\"} | " + filters + " [1m])";
        var atLimit = string.Concat(Enumerable.Repeat("sum(", 199)) + inner + new string(')', 199);
        var past = "sum(" + atLimit + ")";

        var expr = LogQLParser.Parse(atLimit);
        var error = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(past));

        Assert.Equal(LogQLTree.Dump(expr), LogQLTree.Dump(LogQLParser.Parse(LogQLFormatter.Format(expr))));
        Assert.StartsWith(DeepLogQL.Position(0), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_NestingPastTheLimitBeforeALexicalError_ReportsTheFirstErrorWithoutReadingOn()
    {
        // The tokens are read as the parser needs them: the rest of a rejected query is never tokenized.
        var query = new string('(', LogQLParser.MaxDepth + 1) + "\"unterminated";

        var error = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));

        Assert.StartsWith(DeepLogQL.Position(LogQLParser.MaxDepth), error.Message, StringComparison.Ordinal);
    }
}
