namespace NetObserv.Flows;

/// <summary>
/// Dictionary ids the store looked up for a record when it was accepted: its source and destination
/// endpoints and its context, valid while the store's cache is in <paramref name="Generation"/> (0: none
/// were looked up).
/// </summary>
public readonly record struct FlowKeyIds(int Src, int Dst, int Context, long Generation);
