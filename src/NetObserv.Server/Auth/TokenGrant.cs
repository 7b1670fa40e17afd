namespace NetObserv.Server.Auth;

/// <summary>What a caller may do once authenticated.</summary>
/// <param name="Name">How logs name the caller (never the token itself).</param>
/// <param name="Tenants">The tenants it may use, in the file's order: the first is used when a request names none.</param>
/// <param name="CanQuery">Queries, labels, series, stats.</param>
/// <param name="CanPush">Loki push and gRPC ingest.</param>
/// <param name="Namespaces">The namespaces it may see; null for all.</param>
internal sealed record TokenGrant(string Name, IReadOnlyList<string> Tenants, bool CanQuery, bool CanPush,
    IReadOnlyList<string>? Namespaces);
