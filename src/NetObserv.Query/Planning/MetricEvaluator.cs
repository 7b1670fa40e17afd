using NetObserv.Query.LogQL;

namespace NetObserv.Query.Planning;

/// <summary>
/// Evaluates the in-memory part of a metric plan over the leaves' series: vector aggregations,
/// topk/bottomk and arithmetic, step by step, with Prometheus' matching (identical label sets).
/// </summary>
internal sealed class MetricEvaluator
{
    private readonly EvaluationGrid _grid;
    private readonly IReadOnlyDictionary<int, List<Series>> _leafSeries;

    public MetricEvaluator(EvaluationGrid grid, IReadOnlyDictionary<int, List<Series>> leafSeries)
    {
        _grid = grid;
        _leafSeries = leafSeries;
    }

    /// <summary>A scalar (when Series is null) or a set of series.</summary>
    public readonly record struct Value(double Scalar, List<Series>? Series);

    public Value Evaluate(PlanNode node)
    {
        switch (node)
        {
            case ScalarNode s:
                return new Value(s.Value, null);
            case VectorLiteralNode v:
                var values = new double?[_grid.Count];
                Array.Fill(values, v.Value);
                return new Value(0, [new Series(LabelSet.Empty, values)]);
            case LeafNode l:
                return new Value(0, _leafSeries.TryGetValue(l.Leaf.Id, out var list) ? list : []);
            case AggregateNode a:
                var inner = Evaluate(a.Inner);
                if (inner.Series is null)
                {
                    throw new QueryException("vector aggregations need a vector, not a scalar");
                }

                return new Value(0, a.Op is VectorOperator.TopK or VectorOperator.BottomK
                    ? TopK(a, inner.Series)
                    : Aggregate(a, inner.Series));
            case BinaryNode b:
                return Binary(b.Op, Evaluate(b.Left), Evaluate(b.Right));
            default:
                throw new QueryException("unsupported expression");
        }
    }

    private static LabelSet GroupLabels(Grouping? grouping, LabelSet labels) =>
        grouping is null ? LabelSet.Empty : labels.Group(grouping.Without, grouping.Labels.ToHashSet(StringComparer.Ordinal));

    private List<Series> Aggregate(AggregateNode node, List<Series> input)
    {
        var groups = new Dictionary<string, (LabelSet Labels, double[] Acc, int[] Count)>(StringComparer.Ordinal);
        foreach (var series in input)
        {
            var labels = GroupLabels(node.Grouping, series.Labels);
            if (!groups.TryGetValue(labels.Key, out var group))
            {
                group = (labels, new double[_grid.Count], new int[_grid.Count]);
                groups[labels.Key] = group;
            }

            for (var k = 0; k < _grid.Count; k++)
            {
                if (series.Values[k] is not { } v)
                {
                    continue;
                }

                var first = group.Count[k] == 0;
                group.Acc[k] = node.Op switch
                {
                    VectorOperator.Sum or VectorOperator.Avg => group.Acc[k] + v,
                    VectorOperator.Min => first ? v : Math.Min(group.Acc[k], v),
                    VectorOperator.Max => first ? v : Math.Max(group.Acc[k], v),
                    _ => group.Acc[k] + 1,
                };
                group.Count[k]++;
            }
        }

        var result = new List<Series>(groups.Count);
        foreach (var (labels, acc, count) in groups.Values)
        {
            var values = new double?[_grid.Count];
            for (var k = 0; k < _grid.Count; k++)
            {
                if (count[k] > 0)
                {
                    values[k] = node.Op == VectorOperator.Avg ? acc[k] / count[k] : acc[k];
                }
            }

            result.Add(new Series(labels, values));
        }

        return result;
    }

    private List<Series> TopK(AggregateNode node, List<Series> input)
    {
        var k = (int)Math.Min(node.Parameter ?? 1, int.MaxValue);
        var output = input.Select(s => new Series(s.Labels, new double?[_grid.Count])).ToList();
        var byGroup = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < input.Count; i++)
        {
            var key = GroupLabels(node.Grouping, input[i].Labels).Key;
            if (!byGroup.TryGetValue(key, out var members))
            {
                byGroup[key] = members = [];
            }

            members.Add(i);
        }

        var top = node.Op == VectorOperator.TopK;
        for (var step = 0; step < _grid.Count; step++)
        {
            foreach (var members in byGroup.Values)
            {
                var present = members.Where(i => input[i].Values[step] is not null)
                    .OrderBy(i => top ? -input[i].Values[step]!.Value : input[i].Values[step]!.Value)
                    .ThenBy(i => input[i].Labels.Key, StringComparer.Ordinal)
                    .Take(k);
                foreach (var i in present)
                {
                    output[i].Values[step] = input[i].Values[step];
                }
            }
        }

        return output.Where(s => s.Values.Any(v => v is not null)).ToList();
    }

    private Value Binary(BinaryOperator op, Value left, Value right)
    {
        if (left.Series is null && right.Series is null)
        {
            return new Value(Apply(op, left.Scalar, right.Scalar), null);
        }

        if (left.Series is null || right.Series is null)
        {
            var vector = left.Series ?? right.Series!;
            var scalar = left.Series is null ? left.Scalar : right.Scalar;
            var scalarLeft = left.Series is null;
            return new Value(0, vector.Select(s => new Series(s.Labels,
                s.Values.Select(v => v is { } x ? (double?)(scalarLeft ? Apply(op, scalar, x) : Apply(op, x, scalar)) : null)
                    .ToArray())).ToList());
        }

        var rightByLabels = new Dictionary<string, Series>(StringComparer.Ordinal);
        foreach (var s in right.Series)
        {
            if (!rightByLabels.TryAdd(s.Labels.Key, s))
            {
                throw new QueryException("found duplicate series for the match group on the right-hand side");
            }
        }

        var result = new List<Series>();
        foreach (var l in left.Series)
        {
            if (!rightByLabels.TryGetValue(l.Labels.Key, out var r))
            {
                continue;
            }

            var values = new double?[_grid.Count];
            for (var k = 0; k < _grid.Count; k++)
            {
                if (l.Values[k] is { } x && r.Values[k] is { } y)
                {
                    values[k] = Apply(op, x, y);
                }
            }

            result.Add(new Series(l.Labels, values));
        }

        return new Value(0, result);
    }

    private static double Apply(BinaryOperator op, double x, double y) => op switch
    {
        BinaryOperator.Add => x + y,
        BinaryOperator.Subtract => x - y,
        BinaryOperator.Multiply => x * y,
        BinaryOperator.Divide => x / y,
        _ => x % y,
    };
}
