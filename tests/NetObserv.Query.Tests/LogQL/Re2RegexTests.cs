using System.Globalization;
using System.Text.RegularExpressions;
using CsCheck;
using NetObserv.Query.LogQL;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Query.Tests.LogQL;

/// <summary>
/// RE2 patterns translated for PostgreSQL and .NET: each expectation is what Loki's RE2 answers (fully
/// anchored, as label matchers are), checked against a real PostgreSQL and against .NET; random patterns are
/// either refused with <see cref="Re2Exception"/> or run on PostgreSQL without error and agree with .NET.
/// </summary>
public sealed class Re2RegexTests : IClassFixture<PostgresDatabase>
{
    private static readonly string[] s_inputs =
    [
        "", "a", "A", "ab", "aB", "Ab\n", "FRONT-end", "my-frontend-1", "x1_", "é", "É", "\n", "k", "K", "\u212A",
        "\u017F", "s", "abcabc", "0123", " \t", "[]", "-", "a.b", "a\nb", "\u0663", "ns-a", "ns.d", "}", "\\",
        "\U0001F600",
    ];

    private readonly PostgresDatabase _database;

    public Re2RegexTests(PostgresDatabase database)
    {
        _database = database;
    }

    private bool Postgres(string input, string pattern)
    {
        using var connection = new NpgsqlConnection(_database.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT $1 ~ $2", connection);
        command.Parameters.AddWithValue(input);
        command.Parameters.AddWithValue(pattern);
        return (bool)command.ExecuteScalar()!;
    }

    private static bool DotNet(string input, string pattern) =>
        Regex.IsMatch(input, pattern, RegexOptions.NonBacktracking | RegexOptions.CultureInvariant);

    [Theory]
    [InlineData("(?i).*FRONT.*", "my-frontend-1", true)]
    [InlineData("(?i).*front.*", "FRONT-end", true)]
    [InlineData("ns1|(?i).*FRONT.*", "my-frontend-1", true)]
    [InlineData("ns1|(?i).*FRONT.*", "ns1", true)]
    [InlineData("ns1|(?i).*FRONT.*", "NS1", false)]
    [InlineData("a(?i)b", "aB", true)]
    [InlineData("a(?i)b", "AB", false)]
    [InlineData("(?i:a)b", "Ab", true)]
    [InlineData("(?i:a)b", "AB", false)]
    [InlineData("(a(?i)b)c", "aBc", true)]
    [InlineData("(a(?i)b)c", "aBC", false)]
    [InlineData("a(?i)b|c", "C", true)]
    [InlineData("(?i)k", "\u212A", true)]
    [InlineData("(?i)[a-c]+", "AbC", true)]
    [InlineData("(?i)[^a]", "A", false)]
    [InlineData("(?i)é", "É", true)]
    [InlineData(@"\d+", "0123", true)]
    [InlineData(@"\d", "\u0663", false)]
    [InlineData(@"\w+", "x1_", true)]
    [InlineData(@"\w", "é", false)]
    [InlineData(@"\s+", " \t", true)]
    [InlineData(@"[\d-]+", "1-2", true)]
    [InlineData(@"[^\d]", "a", true)]
    [InlineData(@"[\D]", "1", false)]
    [InlineData("[[:alpha:]]+", "ab", true)]
    [InlineData("[[:^alpha:]]", "1", true)]
    [InlineData("[]a]+", "]a", true)]
    [InlineData("[a-]+", "-a", true)]
    [InlineData(".", "\n", false)]
    [InlineData("(?s).", "\n", true)]
    [InlineData("a.b", "a\nb", false)]
    [InlineData("ns-a|ns-b", "ns-a", true)]
    [InlineData("ns-a|ns-b", "ns-ab", false)]
    [InlineData("ns.d", "nsxd", true)]
    [InlineData(@"ns\.d", "nsxd", false)]
    [InlineData("^ns-a$", "ns-a", true)]
    [InlineData("(?m)a$", "a", true)]
    [InlineData(@"a{2,3}", "aaa", true)]
    [InlineData(@"a{2,3}", "aaaa", false)]
    [InlineData(@"a{300}", "a", false)]
    [InlineData(@"a{0,300}", "aaaa", true)]
    [InlineData(@"x{", "x{", true)]
    [InlineData(@"x{,3}", "x{,3}", true)]
    [InlineData(@"a*?b", "aab", true)]
    [InlineData(@"(?U)a+", "aa", true)]
    [InlineData(@"(?P<name>a)b", "ab", true)]
    [InlineData(@"(?<name>a)b", "ab", true)]
    [InlineData(@"\Qa.b\E", "a.b", true)]
    [InlineData(@"\Qa.b\E", "axb", false)]
    [InlineData(@"\x41\x{42}", "AB", true)]
    [InlineData(@"\101", "A", true)]
    [InlineData(@"\bab\b", "ab", true)]
    [InlineData(@"a\Bb", "ab", true)]
    [InlineData(@"\}", "}", true)]
    [InlineData(@"\\", "\\", true)]
    [InlineData(@"\A\z", "", true)]
    [InlineData("", "", true)]
    [InlineData("a|", "", true)]
    [InlineData("()", "", true)]
    [InlineData("^*a", "a", true)]
    [InlineData(".", "\U0001F600", true)]
    [InlineData("[\U0001F600-\U0001F64F]", "\U0001F600", true)]
    public void Translate_MatchesAsRe2(string pattern, string input, bool expected)
    {
        var regex = Re2Regex.Parse(pattern);

        Assert.Equal(expected, Postgres(input, regex.ToPostgres(anchored: true)));
        Assert.Equal(expected, DotNet(input, regex.ToDotNet(anchored: true)));
    }

    [Theory]
    [InlineData(@"\pL")]
    [InlineData(@"\p{Greek}")]
    [InlineData(@"\PN")]
    [InlineData(@"\C")]
    [InlineData(@"(?=a)")]
    [InlineData(@"(?!a)")]
    [InlineData(@"(?<=a)b")]
    [InlineData(@"(a)\1")]
    [InlineData(@"a{1001}")]
    [InlineData(@"a{3,2}")]
    [InlineData(@"a**")]
    [InlineData(@"*a")]
    [InlineData(@"(a")]
    [InlineData(@"a)")]
    [InlineData(@"[a")]
    [InlineData(@"[z-a]")]
    [InlineData(@"\")]
    [InlineData(@"\q")]
    [InlineData(@"(?x)a")]
    [InlineData(@"(?P<>a)")]
    [InlineData(@"\x{110000}")]
    public void Parse_NotRe2OrUntranslatable_Throws(string pattern) =>
        Assert.Throws<Re2Exception>(() => Re2Regex.Parse(pattern));

    [Fact]
    public void Parse_DeepNesting_ThrowsInsteadOfOverflowing()
    {
        var deep = new string('(', 10_000) + new string(')', 10_000);

        Assert.Throws<Re2Exception>(() => Re2Regex.Parse(deep));
    }

    private static readonly string[] s_tokens =
    [
        "a", "A", "b", "k", "é", "\\d", "\\D", "\\w", "\\W", "\\s", "\\S", "\\b", "\\B", "\\A", "\\z", ".", "*", "+",
        "?", "*?", "{2}", "{1,3}", "{0,}", "{256}", "{", "}", "(", ")", "(?:", "(?i)", "(?-i)", "(?i:", "(?s)",
        "(?m)", "(?U)", "(?P<n>", "|", "^", "$", "[", "]", "[^", "-", "a-z", "[:alpha:]", "[:^digit:]", "\\", "\\.",
        "\\x41", "\\x{1F600}", "\\Q", "\\E", "\\n", "\\t", "\\p", "\\1", "\U0001F600", "\n", " ", "\"", "'", "%",
    ];

    [Fact]
    public void Translate_RandomPatterns_RefusedOrRunOnPostgresAgreeingWithDotNet()
    {
        var gen = Gen.OneOf(s_tokens).Array[0, 14].Select(parts => string.Concat(parts));
        var checkedPatterns = 0;
        for (var seed = 0UL; seed < 400; seed++)
        {
            gen.Sample(pattern =>
            {
                Re2Regex regex;
                try
                {
                    regex = Re2Regex.Parse(pattern);
                }
                catch (Re2Exception)
                {
                    return;
                }

                checkedPatterns++;
                var pg = regex.ToPostgres(anchored: true);
                var net = regex.ToDotNet(anchored: true);
                foreach (var input in s_inputs)
                {
                    var expected = DotNet(input, net);
                    try
                    {
                        Assert.True(expected == Postgres(input, pg),
                            string.Create(CultureInfo.InvariantCulture, $"pattern {pattern} input {input}: .NET {expected}"));
                    }
                    catch (PostgresException ex) when (ex.SqlState.StartsWith("54", StringComparison.Ordinal))
                    {
                        // "too complex" is a 400 naming the database's limit (QueryError), not a wrong answer.
                        break;
                    }
                }
            }, seed: new PCG(7, seed).ToString(), iter: 1, threads: 1);
        }

        Assert.True(checkedPatterns > 50, $"only {checkedPatterns} random patterns parsed");
    }
}
