using System.Globalization;
using System.Text;

namespace NetObserv.Query.LogQL;

/// <summary>
/// Splits LogQL text into tokens, one at a time as the parser asks for them (a query rejected early is not
/// read further). Strings are unquoted (Go escapes, or raw back-quoted).
/// </summary>
internal sealed class LogQLLexer
{
    private readonly string _text;
    private int _i;

    public LogQLLexer(string text)
    {
        _text = text;
    }

    /// <summary>The next token; <see cref="LogQLTokenKind.End"/> at the end of the text, and on every call after.</summary>
    public LogQLToken Next()
    {
        var text = _text;
        ref var i = ref _i;
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
            return new LogQLToken(LogQLTokenKind.End, "", text.Length);
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

            return new LogQLToken(LogQLTokenKind.Identifier, text[start..i], start);
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

            return new LogQLToken(LogQLTokenKind.Number, text[start..i], start);
        }

        switch (c)
        {
            case '"':
                return new LogQLToken(LogQLTokenKind.String, ReadQuoted(text, ref i), start);
            case '`':
                var close = text.IndexOf('`', i + 1);
                if (close < 0)
                {
                    throw LogQLParseException.At(text, start, "unterminated raw string");
                }

                i = close + 1;
                return new LogQLToken(LogQLTokenKind.String, text[(start + 1)..close], start);
            case '[':
                var end = text.IndexOf(']', i + 1);
                if (end < 0)
                {
                    throw LogQLParseException.At(text, start, "unterminated range, expecting ']'");
                }

                i = end + 1;
                return new LogQLToken(LogQLTokenKind.Range, text[(start + 1)..end].Trim(), start);
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
        i += length;
        return new LogQLToken(kind, text.Substring(start, length), start);
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
