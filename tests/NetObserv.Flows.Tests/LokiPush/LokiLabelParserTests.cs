using NetObserv.Flows.LokiPush;

namespace NetObserv.Flows.Tests.LokiPush;

public sealed class LokiLabelParserTests
{
    [Fact]
    public void TryParse_FlpLabelSet_ReturnsPairsInOrder()
    {
        var labels = new List<KeyValuePair<string, string>>();

        var ok = LokiLabelParser.TryParse(
            "{app=\"netobserv-flowcollector\", SrcK8S_Namespace=\"shop\",FlowDirection=\"1\" , _RecordType=\"flowLog\"}",
            labels, out var error);

        Assert.True(ok, error);
        Assert.Equal(
            [
                new("app", "netobserv-flowcollector"), new("SrcK8S_Namespace", "shop"), new("FlowDirection", "1"),
                new KeyValuePair<string, string>("_RecordType", "flowLog"),
            ],
            labels);
    }

    [Theory]
    [InlineData(@"{a=""say \""hi\""""}", "say \"hi\"")]
    [InlineData(@"{a=""back\\slash""}", "back\\slash")]
    [InlineData(@"{a=""tab\there\nnew""}", "tab\there\nnew")]
    [InlineData(@"{a=""\x41\102\u00e9\U0001F600""}", "AB\u00e9\U0001F600")]
    [InlineData(@"{a=""\xc3\xa9""}", "\u00e9")]
    [InlineData(@"{a=""\a\b\f\r\v""}", "\a\b\f\r\v")]
    [InlineData("{a=`raw \\n \"kept\"`}", "raw \\n \"kept\"")]
    [InlineData("{a=\"caf\u00e9 \u4e2d\"}", "caf\u00e9 \u4e2d")]
    [InlineData("{a=\"\"}", "")]
    public void TryParse_GoQuotedValue_Unescaped(string text, string expected)
    {
        var labels = new List<KeyValuePair<string, string>>();

        Assert.True(LokiLabelParser.TryParse(text, labels, out var error), error);

        var label = Assert.Single(labels);
        Assert.Equal("a", label.Key);
        Assert.Equal(expected, label.Value);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("  { }  ")]
    [InlineData("{a=\"1\",}")]
    public void TryParse_EmptyOrTrailingComma_Accepted(string text)
    {
        var labels = new List<KeyValuePair<string, string>>();

        Assert.True(LokiLabelParser.TryParse(text, labels, out var error), error);
    }

    [Theory]
    [InlineData("", "col 1: expected '{'")]
    [InlineData("a=\"b\"", "col 1: expected '{'")]
    [InlineData("{a=\"b\"", "col 7: expected '}'")]
    [InlineData("{a=\"b", "col 4: unterminated quoted string")]
    [InlineData("{a=b}", "col 4: expected a quoted label value")]
    [InlineData("{a \"b\"}", "col 4: expected '=' after label name a")]
    [InlineData("{1a=\"b\"}", "col 2: expected a label name")]
    [InlineData("{a-b=\"c\"}", "col 3: expected '=' after label name a")]
    [InlineData("{a=\"b\" c=\"d\"}", "col 8: expected ',' or '}'")]
    [InlineData("{a=\"b\", a=\"c\"}", "col 9: duplicate label name a")]
    [InlineData("{a=\"\\q\"}", "col 5: unknown escape sequence \\q")]
    [InlineData("{a=\"\\x4\"}", "col 5: invalid \\x escape")]
    [InlineData("{a=\"\\777\"}", "col 5: invalid octal escape")]
    [InlineData("{a=\"\\uD800\"}", "col 5: invalid \\u escape")]
    [InlineData("{a=\"\\xff\"}", "col 4: label value is not valid UTF-8")]
    [InlineData("{a=\"b\"} x", "col 9: unexpected text after '}'")]
    [InlineData("{a=`b}", "col 4: unterminated raw string")]
    public void TryParse_Malformed_FailsWithColumn(string text, string expected)
    {
        var labels = new List<KeyValuePair<string, string>>();

        Assert.False(LokiLabelParser.TryParse(text, labels, out var error));

        Assert.Equal("labels at " + expected, error);
    }
}
