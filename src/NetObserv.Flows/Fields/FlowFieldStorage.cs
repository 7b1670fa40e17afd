namespace NetObserv.Flows.Fields;

/// <summary>Where the writer keeps a field: which table of the narrow layout holds it.</summary>
public enum FlowFieldStorage
{
    /// <summary>A column of <c>flow_rows</c> under the same name as in the <c>flows</c> view.</summary>
    Row,

    /// <summary>Kept in <c>flow_rows</c> as an offset from <c>time_end</c>; the <c>flows</c> view computes it.</summary>
    RowOffset,

    /// <summary>A column of <c>flow_endpoints</c>, the source's entry (<c>src_endpoint</c>).</summary>
    SourceEndpoint,

    /// <summary>A column of <c>flow_endpoints</c>, the destination's entry (<c>dst_endpoint</c>).</summary>
    DestinationEndpoint,

    /// <summary>A column of <c>flow_contexts</c> (<c>context</c>).</summary>
    Context,
}
