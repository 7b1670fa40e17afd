using System.Buffers;
using System.Globalization;
using System.Text;

namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Parses a Loki stream label string as push clients send it in protobuf bodies:
/// <c>{app="netobserv-flowcollector", SrcK8S_Namespace="default"}</c>. Values are Go-quoted strings
/// (double quotes with Go escapes: <c>\"</c>, <c>\\</c>, <c>\n</c>, <c>\t</c>, <c>\xHH</c>, octal <c>\ooo</c>,
/// <c>\uHHHH</c>, <c>\UHHHHHHHH</c>, ...) or raw strings in back quotes. Names are
/// <c>[a-zA-Z_][a-zA-Z0-9_]*</c>; a name may appear once. Errors name the 1-based column.
/// </summary>
public static class LokiLabelParser
{
    private static readonly UTF8Encoding s_strictUtf8 = new(false, true);

    /// <summary>
    /// Parses <paramref name="text"/> into <paramref name="labels"/> (cleared first), in order, within
    /// <see cref="LokiLabelLimits.Default"/>. Returns false with a reason when the text is not a label set.
    /// </summary>
    public static bool TryParse(string text, List<KeyValuePair<string, string>> labels, out string? error) =>
        TryParse(text, labels, LokiLabelLimits.Default, out error, out _);

    /// <summary>
    /// Parses <paramref name="text"/> into <paramref name="labels"/> (cleared first), in order. Returns false
    /// with a message and its <see cref="LokiPushRejectReason"/> when the text is not a label set or breaks one
    /// of <paramref name="limits"/>; parsing stops at the first label over a limit. Linear in the text.
    /// </summary>
    public static bool TryParse(string text, List<KeyValuePair<string, string>> labels, LokiLabelLimits limits,
        out string? error, out string reason)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(limits);
        labels.Clear();
        reason = LokiPushRejectReason.InvalidLabels;
        HashSet<string>? names = null;
        var pos = SkipSpaces(text, 0);
        if (pos >= text.Length || text[pos] != '{')
        {
            error = Fail(pos, "expected '{'");
            return false;
        }

        pos = SkipSpaces(text, pos + 1);
        while (pos < text.Length && text[pos] != '}')
        {
            var nameStart = pos;
            if (!IsNameStart(text[pos]))
            {
                error = Fail(pos, "expected a label name");
                return false;
            }

            if (limits.TooMany(labels.Count) is { } tooMany)
            {
                reason = LokiPushRejectReason.MaxLabelNamesPerSeries;
                error = Fail(pos, tooMany);
                return false;
            }

            while (pos < text.Length && IsNameChar(text[pos]))
            {
                pos++;
            }

            if (limits.NameTooLong(text.AsSpan(nameStart, pos - nameStart)) is { } nameTooLong)
            {
                reason = LokiPushRejectReason.LabelNameTooLong;
                error = Fail(nameStart, nameTooLong);
                return false;
            }

            var name = text[nameStart..pos];
            pos = SkipSpaces(text, pos);
            if (pos >= text.Length || text[pos] != '=')
            {
                error = Fail(pos, $"expected '=' after label name {name}");
                return false;
            }

            pos = SkipSpaces(text, pos + 1);
            var valueStart = pos;
            if (!TryReadValue(text, ref pos, out var value, out error))
            {
                return false;
            }

            if (limits.ValueTooLong(name, value) is { } valueTooLong)
            {
                reason = LokiPushRejectReason.LabelValueTooLong;
                error = Fail(valueStart, valueTooLong);
                return false;
            }

            if (LokiLabelLimits.IsDuplicate(labels, ref names, name))
            {
                error = Fail(nameStart, $"duplicate label name {name}");
                return false;
            }

            labels.Add(new KeyValuePair<string, string>(name, value));
            pos = SkipSpaces(text, pos);
            if (pos < text.Length && text[pos] == ',')
            {
                pos = SkipSpaces(text, pos + 1);
            }
            else if (pos < text.Length && text[pos] != '}')
            {
                error = Fail(pos, "expected ',' or '}'");
                return false;
            }
        }

        if (pos >= text.Length)
        {
            error = Fail(pos, "expected '}'");
            return false;
        }

        pos = SkipSpaces(text, pos + 1);
        if (pos != text.Length)
        {
            error = Fail(pos, "unexpected text after '}'");
            return false;
        }

        error = null;
        return true;
    }

    private static bool TryReadValue(string text, ref int pos, out string value, out string? error)
    {
        value = "";
        if (pos >= text.Length || (text[pos] != '"' && text[pos] != '`'))
        {
            error = Fail(pos, "expected a quoted label value");
            return false;
        }

        var quote = text[pos];
        var start = pos;
        pos++;
        if (quote == '`')
        {
            var end = text.IndexOf('`', pos);
            if (end < 0)
            {
                error = Fail(start, "unterminated raw string");
                return false;
            }

            value = text[pos..end];
            pos = end + 1;
            error = null;
            return true;
        }

        // Fast path: no escapes.
        var close = text.IndexOfAny(['"', '\\'], pos);
        if (close >= 0 && text[close] == '"')
        {
            value = text[pos..close];
            pos = close + 1;
            error = null;
            return true;
        }

        return TryReadEscaped(text, start, ref pos, out value, out error);
    }

    /// <summary>Go escapes: byte escapes (\x, octal) may form UTF-8 sequences, so bytes are collected.</summary>
    private static bool TryReadEscaped(string text, int start, ref int pos, out string value, out string? error)
    {
        value = "";
        // Grows as needed: sized to the whole text, every escaped value of a long label set would cost as much.
        var bytes = new ArrayBufferWriter<byte>(Math.Clamp(text.Length - pos, 1, 64));
        Span<byte> utf8 = stackalloc byte[4];
        while (true)
        {
            if (pos >= text.Length)
            {
                error = Fail(start, "unterminated quoted string");
                return false;
            }

            var c = text[pos];
            if (c == '"')
            {
                pos++;
                break;
            }

            if (c == '\n')
            {
                error = Fail(pos, "newline in quoted string");
                return false;
            }

            if (c != '\\')
            {
                var runeLength = char.IsHighSurrogate(c) && pos + 1 < text.Length ? 2 : 1;
                var n = Encoding.UTF8.GetBytes(text.AsSpan(pos, runeLength), utf8);
                bytes.Write(utf8[..n]);
                pos += runeLength;
                continue;
            }

            var escapeAt = pos;
            pos++;
            if (pos >= text.Length)
            {
                error = Fail(start, "unterminated quoted string");
                return false;
            }

            var e = text[pos++];
            switch (e)
            {
                case 'a': WriteByte(bytes, 0x07); break;
                case 'b': WriteByte(bytes, 0x08); break;
                case 'f': WriteByte(bytes, 0x0C); break;
                case 'n': WriteByte(bytes, 0x0A); break;
                case 'r': WriteByte(bytes, 0x0D); break;
                case 't': WriteByte(bytes, 0x09); break;
                case 'v': WriteByte(bytes, 0x0B); break;
                case '\\': WriteByte(bytes, (byte)'\\'); break;
                case '"': WriteByte(bytes, (byte)'"'); break;
                case 'x':
                    if (!TryHex(text, ref pos, 2, out var hex))
                    {
                        error = Fail(escapeAt, "invalid \\x escape");
                        return false;
                    }

                    WriteByte(bytes, (byte)hex);
                    break;
                case 'u' or 'U':
                    if (!TryHex(text, ref pos, e == 'u' ? 4 : 8, out var code) || !Rune.IsValid(code))
                    {
                        error = Fail(escapeAt, $"invalid \\{e} escape");
                        return false;
                    }

                    var written = new Rune(code).EncodeToUtf8(utf8);
                    bytes.Write(utf8[..written]);
                    break;
                case >= '0' and <= '7':
                    pos--;
                    if (!TryOctal(text, ref pos, out var octal))
                    {
                        error = Fail(escapeAt, "invalid octal escape");
                        return false;
                    }

                    WriteByte(bytes, (byte)octal);
                    break;
                default:
                    error = Fail(escapeAt, $"unknown escape sequence \\{e}");
                    return false;
            }
        }

        try
        {
            value = s_strictUtf8.GetString(bytes.WrittenSpan);
        }
        catch (DecoderFallbackException)
        {
            error = Fail(start, "label value is not valid UTF-8");
            return false;
        }

        error = null;
        return true;
    }

    private static void WriteByte(ArrayBufferWriter<byte> bytes, byte b)
    {
        bytes.GetSpan(1)[0] = b;
        bytes.Advance(1);
    }

    private static bool TryHex(string text, ref int pos, int digits, out int value)
    {
        value = 0;
        if (pos + digits > text.Length
            || !int.TryParse(text.AsSpan(pos, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture,
                out value))
        {
            return false;
        }

        pos += digits;
        return true;
    }

    private static bool TryOctal(string text, ref int pos, out int value)
    {
        value = 0;
        if (pos + 3 > text.Length)
        {
            return false;
        }

        for (var i = 0; i < 3; i++)
        {
            var c = text[pos + i];
            if (c is < '0' or > '7')
            {
                return false;
            }

            value = (value * 8) + (c - '0');
        }

        pos += 3;
        return value <= 255;
    }

    private static int SkipSpaces(string text, int pos)
    {
        while (pos < text.Length && text[pos] is ' ' or '\t' or '\n' or '\r')
        {
            pos++;
        }

        return pos;
    }

    private static bool IsNameStart(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or '_';

    private static bool IsNameChar(char c) => IsNameStart(c) || c is >= '0' and <= '9';

    private static string Fail(int pos, string message) =>
        string.Create(CultureInfo.InvariantCulture, $"labels at col {pos + 1}: {message}");
}
