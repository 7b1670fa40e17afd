namespace NetObserv.Flows.Fields;

/// <summary>
/// One NetObserv field: its name as flowlogs-pipeline writes it in the JSON line, its column in the
/// <c>flows</c> view, its type, where the writer keeps it, and how it is read from and written to a
/// <see cref="FlowRecord"/>. The entries are listed once, in <see cref="FlowFields"/>.
/// </summary>
public sealed class FlowFieldSpec
{
    private readonly Func<FlowRecord, object?> _get;
    private readonly Action<FlowRecord, object?> _set;
    private readonly Func<FlowRecord, bool> _isPresent;
    private readonly Action<FlowRecord, FlowRecord> _copy;

    private FlowFieldSpec(string name, string column, FlowFieldType type, FlowFieldStorage storage,
        FlowFieldTraits traits, Func<FlowRecord, object?> get, Action<FlowRecord, object?> set,
        Func<FlowRecord, bool> isPresent, Action<FlowRecord, FlowRecord> copy)
    {
        Name = name;
        Column = column;
        Type = type;
        Storage = storage;
        Traits = traits;
        _get = get;
        _set = set;
        _isPresent = isPresent;
        _copy = copy;
    }

    /// <summary>The NetObserv JSON name (<c>SrcK8S_Namespace</c>).</summary>
    public string Name { get; }

    /// <summary>The column of the <c>flows</c> view (<c>src_k8s_namespace</c>).</summary>
    public string Column { get; }

    public FlowFieldType Type { get; }

    public FlowFieldStorage Storage { get; }

    public FlowFieldTraits Traits { get; }

    /// <summary>True for the fields compared as numbers (integers and epoch times).</summary>
    public bool IsNumeric => Type is FlowFieldType.Number or FlowFieldType.WideNumber or FlowFieldType.EpochMilliseconds
        or FlowFieldType.EpochSeconds;

    /// <summary>True for the <c>inet</c> fields.</summary>
    public bool IsAddress => Type == FlowFieldType.Address;

    /// <summary>True for the list fields (<c>Interfaces</c>, <c>IfDirections</c>) and the flags, which the line writes as arrays.</summary>
    public bool IsArray => Type is FlowFieldType.TextList or FlowFieldType.NumberList or FlowFieldType.TcpFlags;

    public bool IsLokiLabel => (Traits & FlowFieldTraits.LokiLabel) != 0;

    public bool IsRollupKey => (Traits & FlowFieldTraits.RollupKey) != 0;

    /// <summary>
    /// The value of the field in <paramref name="record"/>, boxed (null when absent): <c>int?</c>, <c>long</c>/<c>long?</c>,
    /// <c>string</c>, <see cref="System.Net.IPAddress"/>, <c>ulong?</c> (MAC), <c>bool?</c>, <c>string[]</c>, <c>int[]</c>.
    /// For tests and generic code; hot paths read the properties.
    /// </summary>
    public object? Get(FlowRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _get(record);
    }

    /// <summary>Sets the field from a value of the type <see cref="Get"/> returns.</summary>
    public void Set(FlowRecord record, object? value)
    {
        ArgumentNullException.ThrowIfNull(record);
        _set(record, value);
    }

    /// <summary>True when <paramref name="record"/> has the field (not null; not zero for <see cref="FlowFieldTraits.NotNullable"/>).</summary>
    public bool IsPresent(FlowRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return _isPresent(record);
    }

    /// <summary>Copies the field from <paramref name="from"/> to <paramref name="to"/> (no boxing).</summary>
    public void Copy(FlowRecord from, FlowRecord to)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        _copy(from, to);
    }

    public override string ToString() => Name;

    /// <summary>A field whose value is absent when it equals <c>default(T)</c> (null, or 0 for the plain numbers).</summary>
    internal static FlowFieldSpec Create<T>(string name, string column, FlowFieldType type, FlowFieldStorage storage,
        FlowFieldTraits traits, Func<FlowRecord, T> get, Action<FlowRecord, T> set) =>
        new(name, column, type, storage, traits,
            r => get(r),
            (r, v) => set(r, v is null ? default! : (T)v),
            r => !EqualityComparer<T>.Default.Equals(get(r), default!),
            (from, to) => set(to, get(from)));
}
