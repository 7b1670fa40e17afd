using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace NetObserv.Server.Metrics;

/// <summary>
/// Listens to every <c>NetObserv.*</c> meter of the host and renders its instruments in the Prometheus text
/// format: counters as <c>name_total</c>, gauges and up-down counters as they are. Dots in
/// instrument names become underscores (<c>netobserv.ingest.records</c> ->
/// <c>netobserv_ingest_records_total</c>). Tags become labels.
/// </summary>
internal sealed class PrometheusExporter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(Instrument Instrument, string Labels), double> _values = new();

    /// <param name="meterFactory">
    /// The host's factory: only its meters are rendered, so two hosts in one process (tests) each show
    /// their own values.
    /// </param>
    public PrometheusExporter(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name.StartsWith("NetObserv", StringComparison.Ordinal)
                && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var labels = FormatLabels(tags);
        if (IsCumulative(instrument))
        {
            _values.AddOrUpdate((instrument, labels), value, (_, old) => old + value);
        }
        else
        {
            _values[(instrument, labels)] = value;
        }
    }

    private static bool IsCumulative(Instrument instrument) =>
        instrument.GetType().IsGenericType
        && (instrument.GetType().GetGenericTypeDefinition() == typeof(Counter<>)
            || instrument.GetType().GetGenericTypeDefinition() == typeof(UpDownCounter<>));

    private static bool IsCounter(Instrument instrument) =>
        instrument.GetType().IsGenericType
        && (instrument.GetType().GetGenericTypeDefinition() == typeof(Counter<>)
            || instrument.GetType().GetGenericTypeDefinition() == typeof(ObservableCounter<>));

    /// <summary>The current values in the Prometheus text exposition format.</summary>
    public string Render()
    {
        // Observable instruments report on demand; clear their old values first.
        foreach (var key in _values.Keys)
        {
            if (!IsCumulative(key.Instrument))
            {
                _values.TryRemove(key, out _);
            }
        }

        _listener.RecordObservableInstruments();
        var text = new StringBuilder();
        foreach (var group in _values.GroupBy(kv => kv.Key.Instrument).OrderBy(g => g.Key.Name, StringComparer.Ordinal))
        {
            var instrument = group.Key;
            var name = instrument.Name.Replace('.', '_').Replace('-', '_');
            var type = IsCounter(instrument) ? "counter" : "gauge";
            if (type == "counter")
            {
                name += "_total";
            }

            if (!string.IsNullOrEmpty(instrument.Description))
            {
                text.Append("# HELP ").Append(name).Append(' ').Append(instrument.Description).Append('\n');
            }

            text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
            foreach (var kv in group.OrderBy(kv => kv.Key.Labels, StringComparer.Ordinal))
            {
                text.Append(name).Append(kv.Key.Labels).Append(' ')
                    .Append(kv.Value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string FormatLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }

        var sb = new StringBuilder("{");
        for (var i = 0; i < tags.Length; i++)
        {
            if (i > 0)
            {
                sb.Append(',');
            }

            var value = Convert.ToString(tags[i].Value, CultureInfo.InvariantCulture) ?? "";
            sb.Append(tags[i].Key.Replace('.', '_')).Append("=\"")
                .Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
                    .Replace("\n", "\\n", StringComparison.Ordinal))
                .Append('"');
        }

        return sb.Append('}').ToString();
    }

    public void Dispose() => _listener.Dispose();
}
