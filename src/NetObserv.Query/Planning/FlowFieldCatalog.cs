using NetObserv.Flows;
using NetObserv.Flows.Fields;

namespace NetObserv.Query.Planning;

/// <summary>
/// The whitelist of fields a query may name: NetObserv field name -> column of <c>flows</c> (and of
/// the rollups for their key columns, which share the names), taken from <see cref="FlowFields"/>. Other
/// names are read from <c>extra_fields</c> by <see cref="FilterCompiler"/>.
/// </summary>
internal static class FlowFieldCatalog
{
    /// <summary>The constant stream label every flow carries.</summary>
    public const string AppLabel = "app";

    /// <summary>The value of <see cref="AppLabel"/>.</summary>
    public const string AppValue = "netobserv-flowcollector";

    /// <summary>Bytes corrected for sampling (<c>Bytes * max(Sampling, 1)</c>); not in the line, a derived field.</summary>
    public const string SampledBytes = "SampledBytes";

    /// <summary>Packets corrected for sampling (<c>Packets * max(Sampling, 1)</c>).</summary>
    public const string SampledPackets = "SampledPackets";

    private const string SampledBytesSql = "(bytes * greatest(coalesce(sampling, 1), 1))";
    private const string SampledPacketsSql = "(packets * greatest(coalesce(sampling, 1), 1))";

    /// <summary>
    /// The rollup column holding the same sum as <paramref name="flowsSql"/>, or null when the rollups
    /// cannot answer it. Rollup value columns: bytes, packets, sampled_bytes, sampled_packets.
    /// </summary>
    public static string? RollupValueColumn(string? flowsSql) => flowsSql switch
    {
        null => null,
        "bytes" => "bytes",
        "packets" => "packets",
        SampledBytesSql => "sampled_bytes",
        SampledPacketsSql => "sampled_packets",
        _ => null,
    };

    /// <summary>
    /// Every scalar field of <see cref="FlowFields"/> (the lists and the flags, which the line writes as arrays,
    /// are not label values), then the derived sampled counters.
    /// </summary>
    private static readonly FlowField[] s_fields =
    [
        .. FlowFields.All.Where(f => !f.IsArray).Select(ToQueryField),
        new(SampledBytes, SampledBytesSql, FlowFieldKind.Computed, false),
        new(SampledPackets, SampledPacketsSql, FlowFieldKind.Computed, false),
    ];

    /// <summary>The SQL reading <paramref name="field"/> from <c>flows</c> (its column, or its epoch for times).</summary>
    private static FlowField ToQueryField(FlowFieldSpec field) => field.Type switch
    {
        FlowFieldType.EpochMilliseconds =>
            new(field.Name, $"(extract(epoch from {field.Column}) * 1000)::bigint", FlowFieldKind.Computed, false),
        FlowFieldType.EpochSeconds =>
            new(field.Name, $"extract(epoch from {field.Column})::bigint", FlowFieldKind.Computed, false),
        FlowFieldType.Number or FlowFieldType.WideNumber =>
            new(field.Name, field.Column, FlowFieldKind.Integer, field.IsRollupKey),
        FlowFieldType.Text => new(field.Name, field.Column, FlowFieldKind.Text, field.IsRollupKey),
        _ => new(field.Name, field.Column, FlowFieldKind.Cast, field.IsRollupKey),
    };

    private static readonly Dictionary<string, FlowField> s_byName =
        s_fields.ToDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>Every field, in a fixed order.</summary>
    public static IReadOnlyList<FlowField> All => s_fields;

    public static bool TryGet(string name, out FlowField field) => s_byName.TryGetValue(name, out field!);
}
