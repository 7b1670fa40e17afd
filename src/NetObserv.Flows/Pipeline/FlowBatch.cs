namespace NetObserv.Flows.Pipeline;

/// <summary>Records accepted together, with their write-ahead journal position (0 when not journaled).</summary>
public readonly record struct FlowBatch(IReadOnlyList<FlowRecord> Records, long Position);
