namespace NetObserv.Query.Planning;

/// <summary>How a field is stored, which decides how it is compared and printed.</summary>
internal enum FlowFieldKind
{
    /// <summary>A text column.</summary>
    Text,

    /// <summary>An integer column (compared as a number; printed in decimal).</summary>
    Integer,

    /// <summary>A computed number (epoch milliseconds of a timestamp).</summary>
    Computed,

    /// <summary>Printed through a cast (<c>inet</c>, <c>macaddr</c>, <c>boolean</c>).</summary>
    Cast,
}

/// <summary>
/// A NetObserv field as LogQL names it and the SQL that reads it. <see cref="Sql"/> is fixed text
/// from the whitelist in <see cref="FlowFieldCatalog"/>, never from a request.
/// </summary>
internal sealed record FlowField(string Name, string Sql, FlowFieldKind Kind, bool IsRollupDimension)
{
    /// <summary>SQL yielding the field as text (NULL when absent).</summary>
    public string TextSql => Kind switch
    {
        FlowFieldKind.Text => Sql,
        FlowFieldKind.Cast when IsAddress => $"host({Sql})",
        _ => $"({Sql})::text",
    };

    /// <summary>True for the <c>inet</c> columns (addresses), which <c>ip()</c> filters compare.</summary>
    public bool IsAddress => Kind == FlowFieldKind.Cast
        && (Sql.EndsWith("_addr", StringComparison.Ordinal) || Sql.EndsWith("_ip", StringComparison.Ordinal));

    /// <summary>True when numeric comparisons apply.</summary>
    public bool IsNumeric => Kind is FlowFieldKind.Integer or FlowFieldKind.Computed;
}
