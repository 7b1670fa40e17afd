using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace NetObserv.Storage.Tests;

/// <summary>Keeps every log line written through it: event name and formatted message.</summary>
internal sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Event, string Message)> _lines = new();

    public IReadOnlyList<(string Event, string Message)> Lines => [.. _lines];

    /// <summary>The messages of the lines with event name <paramref name="eventName"/>.</summary>
    public List<string> Messages(string eventName) =>
        [.. _lines.Where(l => l.Event == eventName).Select(l => l.Message)];

    public ILogger CreateLogger(string categoryName) => new Logger(_lines);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(string Event, string Message)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
            Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((eventId.Name ?? "", formatter(state, exception)));
    }
}
