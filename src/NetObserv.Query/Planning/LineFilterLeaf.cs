using NetObserv.Query.LogQL;

namespace NetObserv.Query.Planning;

/// <summary>
/// A range aggregation whose pipeline has a line filter: the leaf, its log query and the SQL of its
/// sample value (null for counts). Line filters test the rendered JSON line, which SQL cannot see, so
/// such a leaf is evaluated by <see cref="LineFilterEvaluator"/> instead of a SQL branch.
/// </summary>
internal sealed record LineFilterLeaf(LeafPlan Leaf, LogQuery Log, string? ValueSql);
