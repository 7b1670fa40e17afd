namespace NetObserv.Server.Auth;

/// <summary>Log events of authentication (4800-4899).</summary>
internal static partial class AuthLog
{
    [LoggerMessage(EventId = 4801, EventName = "TokensLoaded", Level = LogLevel.Information,
        Message = "Loaded {Count} tokens from {Path}")]
    public static partial void TokensLoaded(ILogger logger, int count, string path);

    [LoggerMessage(EventId = 4802, EventName = "TokensInvalid", Level = LogLevel.Error,
        Message = "{Message}. Keeping the tokens loaded before")]
    public static partial void TokensInvalid(ILogger logger, string message);

    [LoggerMessage(EventId = 4803, EventName = "Refused", Level = LogLevel.Debug,
        Message = "Refused {Method} {Path} with {Status}: {Reason}")]
    public static partial void Refused(ILogger logger, string method, string path, int status, string reason);

    [LoggerMessage(EventId = 4804, EventName = "OpenBeyondLoopback", Level = LogLevel.Warning,
        Message = "Listening on {Address} beyond loopback without authentication: anyone who reaches these ports reads and writes every tenant's flows. Set --auth-file (Auth:TokensFile) or Auth:Mode=kubernetes, or listen on loopback")]
    public static partial void OpenBeyondLoopback(ILogger logger, string address);

    [LoggerMessage(EventId = 4805, EventName = "ReviewFailed", Level = LogLevel.Warning,
        Message = "Kubernetes review failed: {Reason}")]
    public static partial void ReviewFailed(ILogger logger, string reason);
}
