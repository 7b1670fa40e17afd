using System.Globalization;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// Known flows and a small <c>Query:MaxResponseBytes</c>, so answers of a few hundred kilobytes are refused
/// and small ones pass.
/// </summary>
public sealed class QueryLimitsFixture() : QueryServerFixture(QueryTestFlows.Generate(800, seed: 31),
    new Dictionary<string, string?> { ["Query:MaxResponseBytes"] = MaxResponseBytes.ToString(CultureInfo.InvariantCulture) })
{
    /// <summary>The configured cap: above a one-series answer, below a 1 s step over the 30 minutes of data.</summary>
    public const int MaxResponseBytes = 60_000;
}
