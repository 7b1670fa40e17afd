using System.Globalization;

namespace NetObserv.Server.Tests.Loki;

/// <summary>
/// Known flows and a small <c>Query:MaxLineFilterRows</c>, so metric queries with line filters over a short
/// range pass and over the whole data are refused.
/// </summary>
public sealed class LineFilterApiFixture() : QueryServerFixture(QueryTestFlows.Generate(800, seed: 21),
    new Dictionary<string, string?> { ["Query:MaxLineFilterRows"] = MaxLineFilterRows.ToString(CultureInfo.InvariantCulture) })
{
    /// <summary>The configured limit: above the flows of 10 minutes, below the 30 minutes of data.</summary>
    public const int MaxLineFilterRows = 500;
}
