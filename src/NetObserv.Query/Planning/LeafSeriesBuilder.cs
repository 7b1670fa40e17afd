using System.Globalization;
using NetObserv.Query.LogQL;

namespace NetObserv.Query.Planning;

/// <summary>
/// Turns the partial aggregates of the leaves (per step k and label values: sum, count, min, max of the
/// window) into series, applying each range aggregation's final formula. The SQL branches and the
/// in-memory line filter evaluation both feed it, so everything above a leaf is one code path.
/// </summary>
internal sealed class LeafSeriesBuilder
{
    private readonly EvaluationGrid _grid;
    private readonly int _maxSeries;
    private readonly Dictionary<(int, string), (LeafPlan Leaf, LabelSet Labels, double?[] Values)> _bySeries = [];

    public LeafSeriesBuilder(EvaluationGrid grid, int maxSeries)
    {
        _grid = grid;
        _maxSeries = maxSeries;
    }

    /// <summary>Flows aggregated (a flow counts once per window holding it).</summary>
    public long Rows { get; private set; }

    /// <summary>
    /// One partial aggregate: the window of step <paramref name="k"/> for the label values (in the order
    /// of <see cref="LeafPlan.Labels"/>) of <paramref name="leaf"/>.
    /// </summary>
    public void Add(LeafPlan leaf, int k, string[] labelValues, double sum, double count, double? min, double? max)
    {
        var key = string.Join('\u0001', labelValues);
        if (!_bySeries.TryGetValue((leaf.Id, key), out var series))
        {
            var pairs = new KeyValuePair<string, string>[leaf.Labels.Count];
            for (var i = 0; i < pairs.Length; i++)
            {
                pairs[i] = new(leaf.Labels[i], labelValues[i]);
            }

            series = (leaf, LabelSet.From(pairs), new double?[_grid.Count]);
            _bySeries[(leaf.Id, key)] = series;
            if (_bySeries.Count > _maxSeries)
            {
                throw new QueryException(string.Create(CultureInfo.InvariantCulture,
                    $"maximum number of series ({_maxSeries}) reached for a single query"));
            }
        }

        Rows += (long)count;
        var seconds = leaf.RangeMs / 1000.0;
        series.Values[k] = leaf.Op switch
        {
            RangeOperator.CountOverTime => count,
            RangeOperator.Rate => (leaf.Unwrapped ? sum : count) / seconds,
            RangeOperator.BytesOverTime or RangeOperator.SumOverTime => sum,
            RangeOperator.BytesRate => sum / seconds,
            RangeOperator.AvgOverTime => count > 0 ? sum / count : null,
            RangeOperator.MaxOverTime => max,
            _ => min,
        };
    }

    /// <summary>The series of each leaf, by leaf id.</summary>
    public Dictionary<int, List<Series>> Build()
    {
        var leafSeries = new Dictionary<int, List<Series>>();
        foreach (var (leaf, labels, values) in _bySeries.Values)
        {
            if (!leafSeries.TryGetValue(leaf.Id, out var list))
            {
                leafSeries[leaf.Id] = list = [];
            }

            list.Add(new Series(labels, values));
        }

        return leafSeries;
    }
}
