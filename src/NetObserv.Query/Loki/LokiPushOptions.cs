using System.Globalization;
using NetObserv.Flows;

namespace NetObserv.Query.Loki;

/// <summary>Loki push endpoint settings (section <c>LokiPush</c>).</summary>
public sealed class LokiPushOptions
{
    public const string Section = "LokiPush";

    /// <summary>
    /// Largest request body accepted, after decompression (snappy, gzip or deflate); larger bodies are
    /// answered 413. Defaults to 64 MiB (67,108,864 bytes).
    /// </summary>
    public int MaxBodyBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Longest line accepted; longer lines are rejected. Defaults to 256 KiB, Loki's <c>max_line_size</c>.</summary>
    public int MaxLineBytes { get; set; } = 256 * 1024;

    /// <summary>How many rejected lines a 400 answer describes (all are counted). Defaults to 5.</summary>
    public int MaxReportedErrors { get; set; } = 5;

    /// <summary>Tenant of requests without an <c>X-Scope-OrgID</c> header. Defaults to <c>default</c>.</summary>
    public string DefaultTenant { get; set; } = FlowRecord.DefaultTenant;

    /// <summary>Every problem with these settings (empty when they are valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (MaxBodyBytes < 1024)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Section}:MaxBodyBytes must be at least 1024 (was {MaxBodyBytes})"));
        }

        if (MaxLineBytes < 1)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Section}:MaxLineBytes must be positive (was {MaxLineBytes})"));
        }

        if (MaxReportedErrors is < 0 or > 1000)
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture,
                $"{Section}:MaxReportedErrors must be between 0 and 1000 (was {MaxReportedErrors})"));
        }

        if (!LokiTenant.IsValid(DefaultTenant))
        {
            errors.Add($"{Section}:DefaultTenant \"{DefaultTenant}\" is not a valid tenant ID");
        }

        return errors;
    }
}
