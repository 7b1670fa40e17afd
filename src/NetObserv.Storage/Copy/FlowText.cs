namespace NetObserv.Storage.Copy;

/// <summary>
/// Text as PostgreSQL accepts it: no NUL character and no unpaired UTF-16 surrogate (neither can be
/// stored in a UTF-8 <c>text</c>). Clean strings are returned as they are, without copying.
/// </summary>
internal static class FlowText
{
    /// <summary>The string itself when it can be stored, else a copy with U+FFFD in place of each bad character.</summary>
    public static string? Clean(string? value)
    {
        // Two vectorized scans: a set of 2,049 characters is searched much more slowly.
        if (value is null || (!value.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') && !value.AsSpan().Contains('\0')))
        {
            return value;
        }

        return Repair(value);
    }

    /// <summary>The array itself when every element can be stored, else a cleaned copy.</summary>
    public static string[]? Clean(string[]? values)
    {
        if (values is null)
        {
            return null;
        }

        string[]? copy = null;
        for (var i = 0; i < values.Length; i++)
        {
            var cleaned = Clean(values[i]);
            if (!ReferenceEquals(cleaned, values[i]))
            {
                copy ??= (string[])values.Clone();
                copy[i] = cleaned!;
            }
        }

        return copy ?? values;
    }

    private static string Repair(string value)
    {
        return string.Create(value.Length, value, static (span, source) =>
        {
            for (var i = 0; i < source.Length; i++)
            {
                var c = source[i];
                if (c == '\0')
                {
                    span[i] = '\uFFFD';
                }
                else if (char.IsHighSurrogate(c) && i + 1 < source.Length && char.IsLowSurrogate(source[i + 1]))
                {
                    span[i] = c;
                    span[i + 1] = source[i + 1];
                    i++;
                }
                else if (char.IsSurrogate(c))
                {
                    span[i] = '\uFFFD';
                }
                else
                {
                    span[i] = c;
                }
            }
        });
    }
}
