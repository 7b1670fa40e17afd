namespace NetObserv.Storage.Tests;

/// <summary>A clock the test sets; timers and delays still run in real time.</summary>
internal sealed class ManualTimeProvider(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
