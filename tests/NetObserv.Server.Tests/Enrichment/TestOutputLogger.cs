using Microsoft.Extensions.Logging;
using Xunit.Abstractions;

namespace NetObserv.Server.Tests.Enrichment;

/// <summary>Writes log lines to the test's output, so a failing test shows what the component said.</summary>
internal sealed class TestOutputLogger<T>(ITestOutputHelper output) : ILogger<T>
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Debug;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception,
        Func<TState, Exception?, string> formatter)
    {
        try
        {
            output.WriteLine($"{logLevel} {eventId.Name}: {formatter(state, exception)} {exception}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished; nobody reads its output any more.
        }
    }
}
