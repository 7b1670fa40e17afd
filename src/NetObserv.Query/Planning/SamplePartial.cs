using NetObserv.Query.LogQL;

namespace NetObserv.Query.Planning;

/// <summary>
/// The partial aggregates of the samples of one series in one sub-bucket: sum, count, min, max, sum of
/// squares, the first and last sample (by time) and, for <c>quantile_over_time</c>, the values themselves.
/// SQL branches return them as columns; the line filter evaluator builds them row by row; the builder merges
/// them into windows. Which parts are kept depends on the range aggregation (<see cref="Needs"/>).
/// </summary>
internal sealed class SamplePartial
{
    public double Sum { get; set; }

    public double Count { get; set; }

    public double? Min { get; set; }

    public double? Max { get; set; }

    public double SumSquares { get; set; }

    /// <summary>Time (epoch ms) and value of the earliest sample; time +∞ when none.</summary>
    public double FirstTime { get; set; } = double.PositiveInfinity;

    public double FirstValue { get; set; }

    /// <summary>Time (epoch ms) and value of the latest sample; time -∞ when none.</summary>
    public double LastTime { get; set; } = double.NegativeInfinity;

    public double LastValue { get; set; }

    /// <summary>Every value (only for <c>quantile_over_time</c>).</summary>
    public List<double>? Values { get; set; }

    /// <summary>The extra parts a range aggregation reads beyond sum, count, min and max.</summary>
    public static (bool Squares, bool First, bool Last, bool Values) Needs(RangeOperator op) => (
        op is RangeOperator.StddevOverTime or RangeOperator.StdvarOverTime,
        op == RangeOperator.FirstOverTime,
        op == RangeOperator.LastOverTime,
        op == RangeOperator.QuantileOverTime);

    /// <summary>Adds one sample.</summary>
    public void Add(double value, double timeMs, bool keepValues)
    {
        Sum += value;
        Count++;
        SumSquares += value * value;
        Min = Min is { } mn && mn <= value ? mn : value;
        Max = Max is { } mx && mx >= value ? mx : value;
        if (timeMs < FirstTime)
        {
            FirstTime = timeMs;
            FirstValue = value;
        }

        if (timeMs >= LastTime)
        {
            LastTime = timeMs;
            LastValue = value;
        }

        if (keepValues)
        {
            (Values ??= []).Add(value);
        }
    }

    /// <summary>The φ-quantile of <paramref name="values"/> as Prometheus computes it (linear interpolation).</summary>
    public static double? Quantile(double phi, List<double> values)
    {
        if (values.Count == 0)
        {
            return null;
        }

        if (double.IsNaN(phi))
        {
            return double.NaN;
        }

        if (phi < 0)
        {
            return double.NegativeInfinity;
        }

        if (phi > 1)
        {
            return double.PositiveInfinity;
        }

        values.Sort();
        var rank = phi * (values.Count - 1);
        var lower = (int)Math.Max(0, Math.Floor(rank));
        var upper = Math.Min(values.Count - 1, lower + 1);
        var weight = rank - Math.Floor(rank);
        return (values[lower] * (1 - weight)) + (values[upper] * weight);
    }
}
