using Microsoft.AspNetCore.Http;

namespace NetObserv.Query.Access;

/// <summary>
/// What one request may read or write: its tenants (already checked against the caller's grant) and,
/// when the caller is restricted, the Kubernetes namespaces it may see. Authentication puts one on the
/// request (<see cref="Set"/>); the Loki endpoints take their tenants and namespace restriction from it,
/// and without authentication from <c>X-Scope-OrgID</c> alone.
/// </summary>
public sealed class FlowAccess
{
    /// <summary>A grant to the tenants named, every namespace.</summary>
    public FlowAccess(IReadOnlyList<string> tenants, IReadOnlyList<string>? namespaces = null)
    {
        ArgumentNullException.ThrowIfNull(tenants);
        if (tenants.Count == 0)
        {
            throw new ArgumentException("at least one tenant", nameof(tenants));
        }

        if (namespaces is { Count: 0 })
        {
            throw new ArgumentException("a namespace restriction names at least one namespace", nameof(namespaces));
        }

        Tenants = [.. tenants.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        Namespaces = namespaces is null ? null : [.. namespaces.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <summary>The tenants read (sorted, distinct), or the one tenant written to.</summary>
    public string[] Tenants { get; }

    /// <summary>
    /// The namespaces whose flows may be seen (a flow is visible when its source or destination namespace is
    /// one of them), sorted and distinct; null when every namespace may be seen.
    /// </summary>
    public string[]? Namespaces { get; }

    /// <summary>The access authentication granted to <paramref name="context"/>'s request, or null.</summary>
    public static FlowAccess? Get(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.Features.Get<FlowAccess>();
    }

    /// <summary>Grants <paramref name="access"/> to <paramref name="context"/>'s request.</summary>
    public static void Set(HttpContext context, FlowAccess access)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Set(access);
    }

    /// <summary>
    /// The tenants an <c>X-Scope-OrgID</c> value names (several joined with <c>|</c>), sorted and distinct;
    /// empty when it names none.
    /// </summary>
    public static string[] ParseTenants(string? header) => string.IsNullOrWhiteSpace(header)
        ? []
        : [.. header.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    /// <summary>A key for caches: equal keys are equal grants.</summary>
    public string Key => Namespaces is null
        ? string.Join('|', Tenants)
        : string.Join('|', Tenants) + "\u0002" + string.Join('|', Namespaces);
}
