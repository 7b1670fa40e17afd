using NetObserv.Query.LogQL;

namespace NetObserv.Query.Planning;

/// <summary>
/// Turns the rows of a metric plan (leaf, sub-bucket j, label values, partial sum/count/min/max) into
/// each leaf's series: adds up the rows of one (leaf, labels), spreads each sub-bucket over the
/// windows (t - range, t] that hold it, and applies the range aggregation's formula per step. The SQL
/// branches and the in-memory line filter evaluation both feed it, so everything above a leaf is one
/// code path.
/// </summary>
internal sealed class LeafSeriesBuilder
{
    private readonly EvaluationGrid _grid;
    private readonly int _maxSeries;
    private readonly Dictionary<(int Leaf, string Key), Accumulator> _series = [];

    public LeafSeriesBuilder(EvaluationGrid grid, int maxSeries)
    {
        _grid = grid;
        _maxSeries = maxSeries;
    }

    /// <summary>
    /// Adds one row; <paramref name="labelValues"/> are the leaf's label values ("" when absent).
    /// Returns false when no window holds the sub-bucket (a range shorter than the step leaves gaps).
    /// </summary>
    public bool Add(LeafPlan leaf, long j, string[] labelValues, SamplePartial partial)
    {
        // Window k holds sub-buckets (k*a - b, k*a].
        var a = leaf.StepMs / leaf.SubBucketMs;
        var b = leaf.RangeMs / leaf.SubBucketMs;
        var from = Math.Max(CeilDiv(j, a), 0);
        var to = Math.Min(FloorDiv(j + b - 1, a), _grid.Count - 1);
        if (from > to)
        {
            return false;
        }

        var acc = Series(leaf, labelValues);
        for (var k = from; k <= to; k++)
        {
            acc.Add((int)k, partial);
        }

        return true;
    }

    private Accumulator Series(LeafPlan leaf, string[] labelValues)
    {
        var key = string.Join('\u0001', labelValues);
        if (!_series.TryGetValue((leaf.Id, key), out var acc))
        {
            if (_series.Count >= _maxSeries)
            {
                throw new QueryException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"maximum number of series ({_maxSeries}) reached for a single query"));
            }

            var pairs = new KeyValuePair<string, string>[leaf.Labels.Count];
            for (var i = 0; i < pairs.Length; i++)
            {
                pairs[i] = new(leaf.Labels[i], labelValues[i]);
            }

            acc = new Accumulator(leaf, LabelSet.From(pairs), _grid.Count);
            _series[(leaf.Id, key)] = acc;
        }

        return acc;
    }

    /// <summary>The series of each leaf, by leaf id.</summary>
    public Dictionary<int, List<Series>> Build()
    {
        var result = new Dictionary<int, List<Series>>();
        foreach (var acc in _series.Values)
        {
            if (!result.TryGetValue(acc.Leaf.Id, out var list))
            {
                result[acc.Leaf.Id] = list = [];
            }

            list.Add(new Series(acc.Labels, acc.Values()));
        }

        return result;
    }

    internal static long FloorDiv(long x, long y) => (x / y) - ((x % y != 0) && ((x < 0) != (y < 0)) ? 1 : 0);

    internal static long CeilDiv(long x, long y) => -FloorDiv(-x, y);

    private sealed class Accumulator
    {
        private readonly double[] _sum;
        private readonly double[] _count;
        private readonly double[] _min;
        private readonly double[] _max;
        private readonly bool[] _present;
        private readonly double[]? _squares;
        private readonly double[]? _edgeTime;
        private readonly double[]? _edgeValue;
        private readonly List<double>?[]? _values;

        public Accumulator(LeafPlan leaf, LabelSet labels, int points)
        {
            Leaf = leaf;
            Labels = labels;
            _sum = new double[points];
            _count = new double[points];
            _min = new double[points];
            _max = new double[points];
            _present = new bool[points];
            Array.Fill(_min, double.NaN);
            Array.Fill(_max, double.NaN);
            var (squares, first, last, values) = SamplePartial.Needs(leaf.Op);
            if (squares)
            {
                _squares = new double[points];
            }

            if (first || last)
            {
                _edgeTime = new double[points];
                _edgeValue = new double[points];
                Array.Fill(_edgeTime, first ? double.PositiveInfinity : double.NegativeInfinity);
            }

            if (values)
            {
                _values = new List<double>?[points];
            }
        }

        public LeafPlan Leaf { get; }

        public LabelSet Labels { get; }

        public void Add(int k, SamplePartial p)
        {
            _present[k] = true;
            _sum[k] += p.Sum;
            _count[k] += p.Count;
            if (p.Min is { } mn && !(mn >= _min[k]))
            {
                _min[k] = mn;
            }

            if (p.Max is { } mx && !(mx <= _max[k]))
            {
                _max[k] = mx;
            }

            if (_squares is not null)
            {
                _squares[k] += p.SumSquares;
            }

            if (_edgeTime is not null)
            {
                if (Leaf.Op == RangeOperator.FirstOverTime ? p.FirstTime < _edgeTime[k] : p.LastTime >= _edgeTime[k])
                {
                    _edgeTime[k] = Leaf.Op == RangeOperator.FirstOverTime ? p.FirstTime : p.LastTime;
                    _edgeValue![k] = Leaf.Op == RangeOperator.FirstOverTime ? p.FirstValue : p.LastValue;
                }
            }

            if (_values is not null && p.Values is { Count: > 0 })
            {
                (_values[k] ??= []).AddRange(p.Values);
            }
        }

        public double?[] Values()
        {
            var seconds = Leaf.RangeMs / 1000.0;
            var values = new double?[_sum.Length];
            for (var k = 0; k < values.Length; k++)
            {
                // A window whose rows were all moved to the previous one (a flow on a bucket boundary) is empty.
                if (!_present[k] || _count[k] <= 0)
                {
                    continue;
                }

                double s = _sum[k], c = _count[k];
                values[k] = Leaf.Op switch
                {
                    RangeOperator.CountOverTime => c,
                    RangeOperator.Rate => (Leaf.Unwrapped ? s : c) / seconds,
                    RangeOperator.BytesOverTime or RangeOperator.SumOverTime => s,
                    RangeOperator.BytesRate => s / seconds,
                    RangeOperator.AvgOverTime => c > 0 ? s / c : null,
                    RangeOperator.MaxOverTime => double.IsNaN(_max[k]) ? null : _max[k],
                    RangeOperator.MinOverTime => double.IsNaN(_min[k]) ? null : _min[k],
                    RangeOperator.StdvarOverTime => c > 0 ? Variance(s, _squares![k], c) : null,
                    RangeOperator.StddevOverTime => c > 0 ? Math.Sqrt(Variance(s, _squares![k], c)) : null,
                    RangeOperator.FirstOverTime or RangeOperator.LastOverTime =>
                        double.IsInfinity(_edgeTime![k]) ? null : _edgeValue![k],
                    _ => _values![k] is { } list ? SamplePartial.Quantile(Leaf.Quantile, list) : null,
                };
            }

            return values;
        }

        /// <summary>Population variance from sum, sum of squares and count (what Loki's stdvar_over_time computes).</summary>
        private static double Variance(double sum, double squares, double count)
        {
            var mean = sum / count;
            return Math.Max((squares / count) - (mean * mean), 0);
        }
    }
}
