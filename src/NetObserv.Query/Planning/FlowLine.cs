using NetObserv.Flows;

namespace NetObserv.Query.Planning;

/// <summary>A flow a log query matched: its record, its time (ns since the epoch) and its JSON line.</summary>
internal readonly record struct FlowLine(FlowRecord Record, long TimestampNs, string Line);
