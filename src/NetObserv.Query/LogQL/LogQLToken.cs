namespace NetObserv.Query.LogQL;

internal enum LogQLTokenKind
{
    End,
    Identifier,
    String,
    Number,
    Range,
    OpenBrace,
    CloseBrace,
    OpenParen,
    CloseParen,
    Comma,
    Pipe,
    Equal,
    NotEqual,
    RegexMatch,
    RegexNotMatch,
    PipeEqual,
    PipeMatch,
    DoubleEqual,
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Caret,
    PipeGreater,
    NotGreater,
}

/// <summary>One token: its kind, its text (the unquoted value for strings, the inside for ranges) and offset.</summary>
internal readonly record struct LogQLToken(LogQLTokenKind Kind, string Text, int Position)
{
    public string Describe() => Kind switch
    {
        LogQLTokenKind.End => "end of input",
        LogQLTokenKind.Identifier => $"identifier '{Text}'",
        LogQLTokenKind.String => $"string \"{Text}\"",
        LogQLTokenKind.Number => $"number {Text}",
        LogQLTokenKind.Range => $"range [{Text}]",
        _ => $"'{Text}'",
    };
}
