using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace NetObserv.Storage.Tests;

/// <summary>Sums of the storage meter's counters and the last value of its gauges, for one host's meter factory.</summary>
internal sealed class MeterTotals : IDisposable
{
    private readonly ConcurrentDictionary<string, long> _totals = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _last = new(StringComparer.Ordinal);

    public MeterTotals(IMeterFactory factory)
    {
        Listener.InstrumentPublished = (instrument, l) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name == "NetObserv.Storage")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        Listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            _totals.AddOrUpdate(instrument.Name, value, (_, old) => old + value);
            foreach (var tag in tags)
            {
                _totals.AddOrUpdate(instrument.Name + "{" + tag.Key + "=" + tag.Value + "}", value, (_, old) => old + value);
            }

            _last[instrument.Name] = value;
        });
        Listener.Start();
    }

    public MeterListener Listener { get; } = new();

    public long Total(string name) => _totals.GetValueOrDefault(name);

    /// <summary>The sum of the measurements of <paramref name="name"/> that carried the tag <paramref name="key"/>=<paramref name="value"/>.</summary>
    public long Total(string name, string key, string value) => _totals.GetValueOrDefault(name + "{" + key + "=" + value + "}");

    public long Last(string name) => _last.GetValueOrDefault(name, -1);

    public void Dispose() => Listener.Dispose();
}
