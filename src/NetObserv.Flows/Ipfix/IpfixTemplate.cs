namespace NetObserv.Flows.Ipfix;

/// <summary>One field of a template: its element, length (65535 = variable) and what the decoder does with it.</summary>
internal readonly record struct IpfixTemplateField(ushort ElementId, ushort Length, uint EnterpriseNumber, IpfixFieldKind Kind)
{
    /// <summary>The IPFIX length value that announces a variable-length field (RFC 7011 §7).</summary>
    public const ushort VariableLength = 65535;

    public bool IsVariable => Length == VariableLength;
}

/// <summary>A (data or options) template as received, with the figures the data path needs precomputed.</summary>
internal sealed class IpfixTemplate
{
    public IpfixTemplate(ushort id, IpfixTemplateField[] fields, int scopeFieldCount, bool isOptions)
    {
        Id = id;
        Fields = fields;
        ScopeFieldCount = scopeFieldCount;
        IsOptions = isOptions;
        var min = 0;
        foreach (var field in fields)
        {
            // A variable-length field takes at least its one length byte.
            min += field.IsVariable ? 1 : field.Length;
        }

        MinRecordLength = min;
    }

    public ushort Id { get; }

    public IpfixTemplateField[] Fields { get; }

    /// <summary>Scope fields of an options template (the first ones); 0 for a data template.</summary>
    public int ScopeFieldCount { get; }

    public bool IsOptions { get; }

    /// <summary>The shortest record this template can describe; sets end with padding shorter than this.</summary>
    public int MinRecordLength { get; }

    /// <summary>When the template stops being usable (Unix ms), unless refreshed.</summary>
    public long ExpiresAtMs { get; set; }
}
