namespace NetObserv.Query.LogQL;

/// <summary>
/// A query that does not parse or uses an unsupported construct. The message reads like Loki's:
/// <c>parse error at line 1, col 12: ...</c>.
/// </summary>
public sealed class LogQLParseException : Exception
{
    public LogQLParseException()
    {
    }

    public LogQLParseException(string message) : base(message)
    {
    }

    public LogQLParseException(string message, Exception innerException) : base(message, innerException)
    {
    }

    internal static LogQLParseException At(string text, int position, string message)
    {
        var line = 1;
        var col = 1;
        for (var i = 0; i < position && i < text.Length; i++)
        {
            if (text[i] == '\n')
            {
                line++;
                col = 1;
            }
            else
            {
                col++;
            }
        }

        return new LogQLParseException($"parse error at line {line}, col {col}: {message}");
    }
}
