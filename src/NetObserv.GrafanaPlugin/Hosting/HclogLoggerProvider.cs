using System.Globalization;
using System.Text.Json;

namespace NetObserv.GrafanaPlugin.Hosting;

/// <summary>
/// Logs to stderr, one JSON object per line in hclog's shape (<c>@level</c>, <c>@message</c>,
/// <c>@timestamp</c>, <c>@module</c>, then the message's named values), which Grafana reads back and logs
/// as the plugin's. Nothing is ever written to stdout: stdout carries the handshake line only.
/// </summary>
internal sealed class HclogLoggerProvider : ILoggerProvider
{
    // Log lines are read by Grafana, not rendered in a page: no HTML-safe escaping of '+', '"' or '<'.
    private static readonly JsonWriterOptions s_options = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly TextWriter _writer;
    private readonly LogLevel _minimum;
    private readonly Lock _lock = new();

    public HclogLoggerProvider(TextWriter writer, LogLevel minimum)
    {
        _writer = writer;
        _minimum = minimum;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Trace => "trace",
        LogLevel.Debug => "debug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        _ => "error",
    };

    private void Write(string category, LogLevel level, string message, IEnumerable<KeyValuePair<string, object?>>? state,
        Exception? exception)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, s_options))
        {
            json.WriteStartObject();
            json.WriteString("@level", Level(level));
            json.WriteString("@message", message);
            json.WriteString("@timestamp", DateTime.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture));
            json.WriteString("@module", category);
            foreach (var (key, value) in state ?? [])
            {
                if (key != "{OriginalFormat}")
                {
                    json.WriteString(key, Convert.ToString(value, CultureInfo.InvariantCulture));
                }
            }

            if (exception is not null)
            {
                json.WriteString("error", exception.ToString());
            }

            json.WriteEndObject();
        }

        var line = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        lock (_lock)
        {
            _writer.WriteLine(line);
            _writer.Flush();
        }
    }

    private sealed class Logger(HclogLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= provider._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                provider.Write(category, logLevel, formatter(state, exception),
                    state as IEnumerable<KeyValuePair<string, object?>>, exception);
            }
        }
    }
}
