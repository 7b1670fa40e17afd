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
}
