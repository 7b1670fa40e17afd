using System.Globalization;
using System.Text;

namespace NetObserv.Query.LogQL;

/// <summary>Splits LogQL text into tokens. Strings are unquoted (Go escapes, or raw back-quoted).</summary>
internal static class LogQLLexer
{
    public static List<LogQLToken> Tokenize(string text)
    {
        var tokens = new List<LogQLToken>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && (char.IsWhiteSpace(text[i]) || text[i] == '#'))
            {
                if (text[i] == '#')
                {
                    while (i < text.Length && text[i] != '\n')
                    {
                        i++;
                    }
                }
                else
                {
                    i++;
                }
            }

            if (i >= text.Length)
            {
                tokens.Add(new LogQLToken(LogQLTokenKind.End, "", text.Length));
                return tokens;
            }

            var start = i;
            var c = text[i];
            var next = i + 1 < text.Length ? text[i + 1] : '\0';
            if (char.IsAsciiLetter(c) || c == '_' || (c == '$' && (char.IsAsciiLetter(next) || next == '_')))
            {
                i++;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] == '_'))
                {
                    i++;
                }

                tokens.Add(new LogQLToken(LogQLTokenKind.Identifier, text[start..i], start));
                continue;
            }

            if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(next)))
            {
                i++;
                while (i < text.Length)
                {
                    var d = text[i];
                    if (char.IsAsciiLetterOrDigit(d) || d == '.'
                        || ((d == '+' || d == '-') && (text[i - 1] is 'e' or 'E') && IsExponent(text, start, i)))
                    {
                        i++;
                    }
                    else
                    {
                        break;
                    }
                }

                tokens.Add(new LogQLToken(LogQLTokenKind.Number, text[start..i], start));
                continue;
            }

            switch (c)
            {
                case '"':
                    tokens.Add(new LogQLToken(LogQLTokenKind.String, ReadQuoted(text, ref i), start));
                    continue;
                case '`':
                    var close = text.IndexOf('`', i + 1);
                    if (close < 0)
                    {
                        throw LogQLParseException.At(text, start, "unterminated raw string");
                    }

                    tokens.Add(new LogQLToken(LogQLTokenKind.String, text[(i + 1)..close], start));
                    i = close + 1;
                    continue;
                case '[':
                    var end = text.IndexOf(']', i + 1);
                    if (end < 0)
                    {
                        throw LogQLParseException.At(text, start, "unterminated range, expecting ']'");
                    }

                    tokens.Add(new LogQLToken(LogQLTokenKind.Range, text[(i + 1)..end].Trim(), start));
                    i = end + 1;
                    continue;
            }

            var (kind, length) = (c, next) switch
            {
                ('|', '=') => (LogQLTokenKind.PipeEqual, 2),
                ('|', '~') => (LogQLTokenKind.PipeMatch, 2),
                ('|', '>') => (LogQLTokenKind.PipeGreater, 2),
                ('|', _) => (LogQLTokenKind.Pipe, 1),
                ('!', '=') => (LogQLTokenKind.NotEqual, 2),
                ('!', '~') => (LogQLTokenKind.RegexNotMatch, 2),
                ('!', '>') => (LogQLTokenKind.NotGreater, 2),
                ('=', '~') => (LogQLTokenKind.RegexMatch, 2),
                ('=', '=') => (LogQLTokenKind.DoubleEqual, 2),
                ('=', _) => (LogQLTokenKind.Equal, 1),
                ('>', '=') => (LogQLTokenKind.GreaterOrEqual, 2),
                ('>', _) => (LogQLTokenKind.Greater, 1),
                ('<', '=') => (LogQLTokenKind.LessOrEqual, 2),
                ('<', _) => (LogQLTokenKind.Less, 1),
                ('{', _) => (LogQLTokenKind.OpenBrace, 1),
                ('}', _) => (LogQLTokenKind.CloseBrace, 1),
                ('(', _) => (LogQLTokenKind.OpenParen, 1),
                (')', _) => (LogQLTokenKind.CloseParen, 1),
                (',', _) => (LogQLTokenKind.Comma, 1),
                ('+', _) => (LogQLTokenKind.Plus, 1),
                ('-', _) => (LogQLTokenKind.Minus, 1),
                ('*', _) => (LogQLTokenKind.Star, 1),
                ('/', _) => (LogQLTokenKind.Slash, 1),
                ('%', _) => (LogQLTokenKind.Percent, 1),
                ('^', _) => (LogQLTokenKind.Caret, 1),
                _ => throw LogQLParseException.At(text, start,
                    string.Create(CultureInfo.InvariantCulture, $"unexpected character '{c}'")),
            };
            tokens.Add(new LogQLToken(kind, text.Substring(i, length), start));
            i += length;
        }
    }

    private static bool IsExponent(string text, int start, int i)
    {
        // 1e+5 / 2.5E-3: a sign directly after an exponent marker that follows digits only.
        for (var k = start; k < i - 1; k++)
        {
            if (!char.IsAsciiDigit(text[k]) && text[k] != '.')
            {
                return false;
            }
        }

        return true;
    }

    private static string ReadQuoted(string text, ref int i)
    {
        var start = i;
        var sb = new StringBuilder();
        i++;
        while (true)
        {
            if (i >= text.Length || text[i] == '\n')
            {
                throw LogQLParseException.At(text, start, "unterminated string");
            }

            var c = text[i];
            if (c == '"')
            {
                i++;
                return sb.ToString();
            }

            if (c != '\\')
            {
                sb.Append(c);
                i++;
                continue;
            }

            if (i + 1 >= text.Length)
            {
                throw LogQLParseException.At(text, start, "unterminated string");
            }

            var e = text[i + 1];
            i += 2;
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case '"': sb.Append('"'); break;
                case '\'': sb.Append('\''); break;
                case 'u' or 'U' or 'x':
                    var digits = e switch { 'u' => 4, 'U' => 8, _ => 2 };
                    // A code point, not a surrogate half (Go rejects those too).
                    if (i + digits > text.Length || !uint.TryParse(text.AsSpan(i, digits), NumberStyles.AllowHexSpecifier,
                        CultureInfo.InvariantCulture, out var code) || code > 0x10FFFF || code is >= 0xD800 and <= 0xDFFF)
                    {
                        throw LogQLParseException.At(text, i - 2, "invalid escape sequence in string");
                    }

                    sb.Append(char.ConvertFromUtf32((int)code));
                    i += digits;
                    break;
                default:
                    throw LogQLParseException.At(text, i - 2,
                        string.Create(CultureInfo.InvariantCulture, $"invalid escape sequence '\\{e}' in string"));
            }
        }
    }
}
