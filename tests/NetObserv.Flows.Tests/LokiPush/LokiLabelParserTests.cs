using System.Diagnostics;
using System.Globalization;
using System.Text;
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

    private static readonly LokiLabelLimits s_unlimitedCount = new(1_000_000, 1024, 2048);

    /// <summary>
    /// 40,000 labels in 578 KB, as in the report that took 10.6 s: with no label-count limit in the way,
    /// parsing is linear (a list scan for duplicates made it quadratic: 29 s here).
    /// </summary>
    [Fact]
    public void TryParse_40000Labels_Linear()
    {
        var text = ManyLabels(40_000);
        var labels = new List<KeyValuePair<string, string>>();
        Assert.True(LokiLabelParser.TryParse(ManyLabels(100), labels, s_unlimitedCount, out var warmup, out _), warmup);

        var watch = Stopwatch.StartNew();
        var ok = LokiLabelParser.TryParse(text, labels, s_unlimitedCount, out var error, out _);
        watch.Stop();

        Assert.True(ok, error);
        Assert.Equal(40_000, labels.Count);
        Assert.Equal(new KeyValuePair<string, string>("l39999", "39999"), labels[^1]);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"{text.Length} chars parsed in {watch.Elapsed}");
    }

    [Fact]
    public void TryParse_40000LabelsDuplicateLast_FoundPastTheScanLimit()
    {
        var text = ManyLabels(40_000)[..^1] + ",l17=\"again\"}";
        var labels = new List<KeyValuePair<string, string>>();

        Assert.False(LokiLabelParser.TryParse(text, labels, s_unlimitedCount, out var error, out var reason));

        Assert.Equal(LokiPushRejectReason.InvalidLabels, reason);
        Assert.Equal($"labels at col {text.Length - 11}: duplicate label name l17", error);
    }

    /// <summary>Each escaped value used to get a buffer the size of the whole text: quadratic memory.</summary>
    [Fact]
    public void TryParse_ManyEscapedValues_AllocationLinear()
    {
        var text = new StringBuilder("{");
        for (var i = 0; i < 4_000; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"l{i}=\"a\\\"b\"");
        }

        var input = text.Append('}').ToString();
        var labels = new List<KeyValuePair<string, string>>();
        Assert.True(LokiLabelParser.TryParse("{a=\"\\n\"}", labels, s_unlimitedCount, out var warmup, out _), warmup);

        var before = GC.GetAllocatedBytesForCurrentThread();
        Assert.True(LokiLabelParser.TryParse(input, labels, s_unlimitedCount, out var error, out _), error);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("a\"b", labels[^1].Value);
        Assert.True(allocated < 100L * input.Length, $"{allocated} bytes allocated for {input.Length} chars");
    }

    [Fact]
    public void TryParse_40000LabelsDefaultLimits_RefusedAtTheLimit()
    {
        var text = ManyLabels(40_000);
        var labels = new List<KeyValuePair<string, string>>();

        var watch = Stopwatch.StartNew();
        var ok = LokiLabelParser.TryParse(text, labels, LokiLabelLimits.Default, out var error, out var reason);
        watch.Stop();

        Assert.False(ok);
        Assert.Equal(LokiPushRejectReason.MaxLabelNamesPerSeries, reason);
        Assert.Equal($"labels at col {text.IndexOf("l30=", StringComparison.Ordinal) + 1}: more than 30 label names (limit 30)",
            error);
        Assert.Equal(30, labels.Count);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"refused in {watch.Elapsed}");
    }

    [Fact]
    public void TryParse_AtEachLimit_Accepted()
    {
        var limits = new LokiLabelLimits(3, 5, 6);
        var labels = new List<KeyValuePair<string, string>>();

        // 6 bytes: "\u00e9" is 2 bytes in UTF-8.
        Assert.True(LokiLabelParser.TryParse("{abcde=\"abcd\u00e9\", b=\"\", c=`123456`}", labels, limits, out var error,
            out _), error);

        Assert.Equal(3, labels.Count);
    }

    [Theory]
    [InlineData("{a=\"1\", b=\"2\", c=\"3\", d=\"4\"}", "max_label_names_per_series",
        "col 23: more than 3 label names (limit 3)")]
    [InlineData("{a=\"1\", abcdef=\"2\"}", "label_name_too_long",
        "col 9: label name abcdef of 6 bytes is too long (limit 5)")]
    [InlineData("{a=\"1234567\"}", "label_value_too_long", "col 4: value of label a of 7 bytes is too long (limit 6)")]
    [InlineData("{a=\"abcde\u00e9\"}", "label_value_too_long", "col 4: value of label a of 7 bytes is too long (limit 6)")]
    [InlineData("{a=\"\\x41\\x41\\x41\\x41\\x41\\x41\\x41\"}", "label_value_too_long",
        "col 4: value of label a of 7 bytes is too long (limit 6)")]
    [InlineData("{a=`1234567`}", "label_value_too_long", "col 4: value of label a of 7 bytes is too long (limit 6)")]
    public void TryParse_OverALimit_FailsWithReason(string text, string expectedReason, string expected)
    {
        var labels = new List<KeyValuePair<string, string>>();

        Assert.False(LokiLabelParser.TryParse(text, labels, new LokiLabelLimits(3, 5, 6), out var error, out var reason));

        Assert.Equal(expectedReason, reason);
        Assert.Equal("labels at " + expected, error);
    }

    /// <summary><c>{l0="0",l1="1",...}</c>: about 14.4 characters a label.</summary>
    internal static string ManyLabels(int count)
    {
        var text = new StringBuilder("{");
        for (var i = 0; i < count; i++)
        {
            text.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"l{i}=\"{i}\"");
        }

        return text.Append('}').ToString();
    }
}
