namespace NetObserv.Flows.Fields;

/// <summary>Properties of a field that decide how the layers treat it.</summary>
[Flags]
public enum FlowFieldTraits
{
    None = 0,

    /// <summary>flowlogs-pipeline may move it out of the line into a Loki stream label.</summary>
    LokiLabel = 1,

    /// <summary>A key of the rollup tables: queries grouping or filtering on it can read the rollups.</summary>
    RollupKey = 2,

    /// <summary>
    /// Kept as a plain (non-nullable) value in <see cref="FlowRecord"/>: zero means absent. The times,
    /// <c>Bytes</c> and <c>Packets</c>.
    /// </summary>
    NotNullable = 4,
}
