namespace NetObserv.Flows.Fields;

/// <summary>How a NetObserv field is typed, in the JSON line and in its column.</summary>
public enum FlowFieldType
{
    /// <summary>A 32-bit integer (<c>integer</c> or <c>smallint</c> column, JSON number).</summary>
    Number,

    /// <summary>A 64-bit integer (<c>bigint</c> column, JSON number).</summary>
    WideNumber,

    /// <summary>Unix epoch milliseconds (<c>timestamptz</c> column, JSON number).</summary>
    EpochMilliseconds,

    /// <summary>Unix epoch seconds (<c>timestamptz</c> column, JSON number).</summary>
    EpochSeconds,

    /// <summary>Text (<c>text</c> column, JSON string).</summary>
    Text,

    /// <summary>An IPv4 or IPv6 address (<c>inet</c> column, JSON string).</summary>
    Address,

    /// <summary>A 48-bit MAC address (<c>macaddr</c> column, JSON string <c>aa:bb:cc:dd:ee:ff</c>).</summary>
    Mac,

    /// <summary>A boolean (<c>boolean</c> column, JSON <c>true</c>/<c>false</c>).</summary>
    Boolean,

    /// <summary>TCP flags (<c>integer</c> column, JSON array of flag names, read from names or a number).</summary>
    TcpFlags,

    /// <summary>A list of text (<c>text[]</c> column, JSON array of strings).</summary>
    TextList,

    /// <summary>A list of 32-bit integers (<c>integer[]</c> column, JSON array of numbers).</summary>
    NumberList,
}
