using NetObserv.Query.LogQL;

namespace NetObserv.Query.Tests.LogQL;

public sealed class LogQLParserTests
{
    [Fact]
    public void Parse_StreamSelectorWithEveryOperator_ReadsMatchers()
    {
        var q = Assert.IsType<LogQuery>(LogQLParser.Parse("{a=\"1\", b!=\"2\", c=~\"x|y\", d!~`raw\\d`}"));

        Assert.Equal(
            [("a", MatchOperator.Equal, "1"), ("b", MatchOperator.NotEqual, "2"), ("c", MatchOperator.Regex, "x|y"),
                ("d", MatchOperator.NotRegex, "raw\\d")],
            q.Matchers.Select(m => (m.Name, m.Op, m.Value)));
        Assert.Empty(q.Stages);
    }

    [Fact]
    public void Parse_EscapedMultiValueRegex_UnquotesOnce()
    {
        var q = Assert.IsType<LogQuery>(LogQLParser.Parse("{SrcK8S_Namespace=~\"a|b\\\\.c\"}"));

        Assert.Equal("a|b\\.c", q.Matchers[0].Value);
    }

    [Fact]
    public void Parse_LineFilters_ReadsOperatorsAndAlternatives()
    {
        var q = Assert.IsType<LogQuery>(LogQLParser.Parse("{a=\"1\"} |= \"x\" or \"y\" != \"z\" |~ \"r.*\" !~ \"s\""));

        var filters = q.Stages.Cast<LineFilterStage>().ToList();
        Assert.Equal([LineFilterOperator.Contains, LineFilterOperator.NotContains, LineFilterOperator.Matches,
            LineFilterOperator.NotMatches], filters.Select(f => f.Op));
        Assert.Equal(["x", "y"], filters[0].Values);
    }

    [Fact]
    public void Parse_JsonAndLabelFilters_BuildsAndOrTree()
    {
        var q = Assert.IsType<LogQuery>(LogQLParser.Parse(
            "{a=\"1\"} | json | Bytes > 100 and Proto == 6, DstPort != 53 or SrcK8S_Namespace=~\"ns-.*\" | __error__=\"\""));

        Assert.IsType<JsonStage>(q.Stages[0]);
        var or = Assert.IsType<OrLabelFilter>(Assert.IsType<LabelFilterStage>(q.Stages[1]).Filter);
        var and = Assert.IsType<AndLabelFilter>(or.Left);
        var inner = Assert.IsType<AndLabelFilter>(and.Left);
        Assert.Equal(new NumericLabelFilter("Bytes", CompareOperator.Greater, 100, inner.Left.Position), inner.Left);
        Assert.Equal(CompareOperator.Equal, Assert.IsType<NumericLabelFilter>(inner.Right).Op);
        Assert.Equal(CompareOperator.NotEqual, Assert.IsType<NumericLabelFilter>(and.Right).Op);
        Assert.Equal(MatchOperator.Regex, Assert.IsType<StringLabelFilter>(or.Right).Op);
        var error = Assert.IsType<StringLabelFilter>(Assert.IsType<LabelFilterStage>(q.Stages[2]).Filter);
        Assert.Equal(("__error__", MatchOperator.Equal, ""), (error.Name, error.Op, error.Value));
    }

    [Theory]
    [InlineData("Bytes >= 10", "GreaterOrEqual")]
    [InlineData("Bytes < 10", "Less")]
    [InlineData("Bytes <= 10", "LessOrEqual")]
    [InlineData("Bytes = 10", "Equal")]
    public void Parse_NumericComparisons_ReadsOperator(string filter, string expectedName)
    {
        var expected = Enum.Parse<CompareOperator>(expectedName);
        var q = Assert.IsType<LogQuery>(LogQLParser.Parse("{a=\"1\"} | " + filter));

        var numeric = Assert.IsType<NumericLabelFilter>(Assert.IsType<LabelFilterStage>(q.Stages[0]).Filter);
        Assert.Equal((expected, 10.0), (numeric.Op, numeric.Value));
    }

    [Fact]
    public void Parse_ParenthesisedLabelFilters_GroupsOr()
    {
        var q = Assert.IsType<LogQuery>(LogQLParser.Parse("{a=\"1\"} | (x=\"1\" or y=\"2\") and z=\"3\""));

        var and = Assert.IsType<AndLabelFilter>(Assert.IsType<LabelFilterStage>(q.Stages[0]).Filter);
        Assert.IsType<OrLabelFilter>(and.Left);
    }

    [Theory]
    [InlineData("rate", "Rate")]
    [InlineData("count_over_time", "CountOverTime")]
    [InlineData("bytes_over_time", "BytesOverTime")]
    [InlineData("bytes_rate", "BytesRate")]
    public void Parse_RangeAggregations_ReadsOperatorAndRange(string name, string opName)
    {
        var op = Enum.Parse<RangeOperator>(opName);
        var r = Assert.IsType<RangeAggregation>(LogQLParser.Parse(name + "({a=\"1\"} |= \"x\" [5m30s])"));

        Assert.Equal(op, r.Op);
        Assert.Equal(TimeSpan.FromSeconds(330), r.Range.Fixed);
        Assert.IsType<LineFilterStage>(Assert.Single(r.Log.Stages));
    }

    [Theory]
    [InlineData("sum_over_time", "SumOverTime")]
    [InlineData("avg_over_time", "AvgOverTime")]
    [InlineData("max_over_time", "MaxOverTime")]
    [InlineData("min_over_time", "MinOverTime")]
    [InlineData("rate", "Rate")]
    public void Parse_UnwrappedRangeAggregations_KeepsUnwrapStage(string name, string opName)
    {
        var op = Enum.Parse<RangeOperator>(opName);
        var r = Assert.IsType<RangeAggregation>(LogQLParser.Parse(
            name + "({a=\"1\"}|json|unwrap Bytes|__error__=\"\"[300s])"));

        Assert.Equal(op, r.Op);
        Assert.Equal(TimeSpan.FromMinutes(5), r.Range.Fixed);
        Assert.Equal("Bytes", r.Log.Stages.OfType<UnwrapStage>().Single().Label);
        Assert.IsType<LabelFilterStage>(r.Log.Stages[^1]);
    }

    [Fact]
    public void Parse_RangeBeforePipeline_MovesPipelineInside()
    {
        var r = Assert.IsType<RangeAggregation>(LogQLParser.Parse("count_over_time({a=\"1\"}[1m] | json | b=\"2\")"));

        Assert.Equal(2, r.Log.Stages.Count);
    }

    [Theory]
    [InlineData("$__auto", "__auto")]
    [InlineData("$__interval", "__interval")]
    [InlineData("${__range}", "__range")]
    public void Parse_GrafanaVariableRange_KeepsVariable(string range, string variable)
    {
        var r = Assert.IsType<RangeAggregation>(LogQLParser.Parse($"rate({{a=\"1\"}}[{range}])"));

        Assert.Equal(variable, r.Range.Variable);
    }

    [Theory]
    [InlineData("sum by (x, y) (rate({a=\"1\"}[1m]))")]
    [InlineData("sum(rate({a=\"1\"}[1m])) by (x, y)")]
    public void Parse_VectorAggregationGrouping_BeforeOrAfter(string query)
    {
        var v = Assert.IsType<VectorAggregation>(LogQLParser.Parse(query));

        Assert.Equal(VectorOperator.Sum, v.Op);
        Assert.Equal(["x", "y"], v.Grouping!.Labels);
        Assert.False(v.Grouping.Without);
    }

    [Theory]
    [InlineData("avg", "Avg")]
    [InlineData("min", "Min")]
    [InlineData("max", "Max")]
    [InlineData("count", "Count")]
    public void Parse_VectorAggregationWithout_ReadsOperator(string name, string opName)
    {
        var op = Enum.Parse<VectorOperator>(opName);
        var v = Assert.IsType<VectorAggregation>(LogQLParser.Parse(name + " without (x) (rate({a=\"1\"}[1m]))"));

        Assert.Equal(op, v.Op);
        Assert.True(v.Grouping!.Without);
    }

    [Theory]
    [InlineData("topk", "TopK")]
    [InlineData("bottomk", "BottomK")]
    public void Parse_TopKAndBottomK_ReadsParameter(string name, string opName)
    {
        var op = Enum.Parse<VectorOperator>(opName);
        var v = Assert.IsType<VectorAggregation>(LogQLParser.Parse(
            name + "(100, sum by(SrcK8S_Namespace) (sum_over_time({a=\"1\"}|json|unwrap Bytes[300s])))"));

        Assert.Equal((op, 100.0), (v.Op, v.Parameter));
        Assert.IsType<VectorAggregation>(v.Inner);
    }

    [Fact]
    public void Parse_LogVolumeQuery_ParsesDropAndAbsentGrouping()
    {
        var v = Assert.IsType<VectorAggregation>(LogQLParser.Parse(
            "sum by (level, detected_level) (count_over_time({app=\"netobserv-flowcollector\"} | drop __error__[60s]))"));

        var r = Assert.IsType<RangeAggregation>(v.Inner);
        Assert.Equal(["__error__"], Assert.IsType<DropStage>(Assert.Single(r.Log.Stages)).Labels);
    }

    [Fact]
    public void Parse_ArithmeticPrecedence_MultiplicationBindsTighter()
    {
        var b = Assert.IsType<BinaryOperation>(LogQLParser.Parse("1 + 2 * vector(3) - 4 / 2"));

        Assert.Equal(BinaryOperator.Subtract, b.Op);
        var add = Assert.IsType<BinaryOperation>(b.Left);
        Assert.Equal(BinaryOperator.Add, add.Op);
        Assert.Equal(BinaryOperator.Multiply, Assert.IsType<BinaryOperation>(add.Right).Op);
        Assert.Equal(BinaryOperator.Divide, Assert.IsType<BinaryOperation>(b.Right).Op);
    }

    [Fact]
    public void Parse_Parentheses_OverridePrecedence()
    {
        var b = Assert.IsType<BinaryOperation>(LogQLParser.Parse("(1 + 2) * -3"));

        Assert.Equal(BinaryOperator.Multiply, b.Op);
        Assert.Equal(-3, Assert.IsType<NumberLiteral>(b.Right).Value);
    }

    [Fact]
    public void Parse_HealthCheck_VectorPlusVector()
    {
        var b = Assert.IsType<BinaryOperation>(LogQLParser.Parse("vector(1)+vector(1)"));

        Assert.Equal(new VectorLiteral(1, 0), b.Left);
        Assert.Equal(1, Assert.IsType<VectorLiteral>(b.Right).Value);
    }

    [Fact]
    public void Format_ParsedQuery_RoundTripsToTheSameTree()
    {
        const string query = "topk(5, sum by (a) (rate({x=\"1\", y=~\"a|b\\\\.c\"} |= \"q\" | json | n > 3 or m != \"z\" | drop k | unwrap Bytes [5m]))) * 2";

        var once = LogQLFormatter.Format(LogQLParser.Parse(query));
        var twice = LogQLFormatter.Format(LogQLParser.Parse(once));

        Assert.Equal(once, twice);
        Assert.Contains("a|b\\\\.c", once, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{a=\"1\"} | (json=\"1\")")]
    [InlineData("{a=\"1\"} | (drop > 2)")]
    [InlineData("{a=\"1\"} | (unwrap=~\"u.*\") | json")]
    public void Format_LabelFilterOnALabelNamedLikeAStage_ParsesBackToTheSameTree(string query)
    {
        var expr = LogQLParser.Parse(query);

        var again = LogQLParser.Parse(LogQLFormatter.Format(expr));

        Assert.Equal(LogQLTree.Dump(expr), LogQLTree.Dump(again));
    }

    [Theory]
    [InlineData("{app=\"x\"} | logfmt", "parse error at line 1, col 13: unsupported construct: | logfmt")]
    [InlineData("{app=\"x\"} | line_format \"{{.a}}\"", "parse error at line 1, col 13: unsupported construct: | line_format")]
    [InlineData("{app=\"x\"} | regexp \"(?P<a>.*)\"", "parse error at line 1, col 13: unsupported construct: | regexp")]
    [InlineData("{app=\"x\"} | pattern \"<a>\"", "parse error at line 1, col 13: unsupported construct: | pattern")]
    [InlineData("absent_over_time({app=\"x\"} [1m])", "parse error at line 1, col 1: unsupported construct: absent_over_time")]
    [InlineData("rate({app=\"x\"}[1m] offset 1h)", "parse error at line 1, col 20: unsupported construct: offset")]
    [InlineData("rate({app=\"x\"}[1m]) > 5", "parse error at line 1, col 21: unsupported construct: binary operator '>'")]
    [InlineData("{app=\"x\"} |> \"<_>\"", "parse error at line 1, col 11: unsupported construct: pattern line filter '|>'")]
    [InlineData("sum_over_time({app=\"x\"} | unwrap bytes(Bytes) [1m])", "parse error at line 1, col 34: unsupported construct: unwrap conversion bytes()")]
    public void Parse_UnsupportedConstruct_NamesItWithPosition(string query, string message)
    {
        var error = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));

        Assert.Equal(message, error.Message);
    }

    [Theory]
    [InlineData("{app}", "parse error at line 1, col 5: syntax error: unexpected '}', expecting = or != or =~ or !~")]
    [InlineData("{app=\"x\"", "parse error at line 1, col 9: syntax error: unexpected end of input, expecting ',' or '}'")]
    [InlineData("{app=\"x}", "parse error at line 1, col 6: unterminated string")]
    [InlineData("rate({app=\"x\"})", "parse error at line 1, col 15: syntax error: unexpected ')', expecting a range like [5m]")]
    [InlineData("rate({app=\"x\"}[5x])", "parse error at line 1, col 16: syntax error: invalid range duration '5x'")]
    [InlineData("sum_over_time({app=\"x\"}[1m])", "parse error at line 1, col 1: syntax error: sum_over_time needs an unwrap stage (| unwrap Bytes)")]
    [InlineData("sum(rate({a=\"1\"}[1m])) by x", "parse error at line 1, col 27: syntax error: unexpected identifier 'x', expecting '('")]
    [InlineData("{app=\"x\"}\n  | json |", "parse error at line 2, col 11: syntax error: unexpected end of input, expecting a parser, a label filter, drop or unwrap")]
    [InlineData("", "parse error at line 1, col 1: syntax error: empty query")]
    [InlineData("{a=~\"(\"}", "parse error at line 1, col 5: invalid regular expression \"(\": missing closing ) at offset 0")]
    public void Parse_SyntaxError_ReportsLineAndColumn(string query, string message)
    {
        var error = Assert.Throws<LogQLParseException>(() => LogQLParser.Parse(query));

        Assert.Equal(message, error.Message);
    }
}
