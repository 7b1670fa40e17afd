using System.Net;
using NetObserv.Flows;
using NetObserv.Storage.Copy;

namespace NetObserv.Storage.Dictionaries;

/// <summary>
/// A row of <c>flow_contexts</c>: how and where a flow was observed and what it belongs to (the MAC
/// addresses are the endpoints', <see cref="EndpointKey"/>). Arrays compare by their elements.
/// </summary>
internal readonly struct ContextKey : IEquatable<ContextKey>
{
    public ContextKey(FlowRecord r)
    {
        Tenant = FlowText.Clean(r.Tenant) ?? FlowRecord.DefaultTenant;
        FlowDirection = r.FlowDirection;
        Interfaces = FlowText.Clean(r.Interfaces);
        IfDirections = r.IfDirections;
        Duplicate = r.Duplicate;
        AgentIP = r.AgentIP;
        Etype = r.Etype;
        Sampling = r.Sampling;
        FlowLayer = FlowText.Clean(r.K8SFlowLayer);
        ClusterName = FlowText.Clean(r.K8SClusterName);
        RecordType = FlowText.Clean(r.RecordType);
    }

    public string Tenant { get; }
    public int? FlowDirection { get; }
    public string[]? Interfaces { get; }
    public int[]? IfDirections { get; }
    public bool? Duplicate { get; }
    public IPAddress? AgentIP { get; }
    public int? Etype { get; }
    public int? Sampling { get; }
    public string? FlowLayer { get; }
    public string? ClusterName { get; }
    public string? RecordType { get; }

    public bool Equals(ContextKey other) =>
        string.Equals(Tenant, other.Tenant, StringComparison.Ordinal)
        && FlowDirection == other.FlowDirection
        && SameElements(Interfaces, other.Interfaces)
        && SameElements(IfDirections, other.IfDirections)
        && Duplicate == other.Duplicate
        && Equals(AgentIP, other.AgentIP)
        && Etype == other.Etype
        && Sampling == other.Sampling
        && string.Equals(FlowLayer, other.FlowLayer, StringComparison.Ordinal)
        && string.Equals(ClusterName, other.ClusterName, StringComparison.Ordinal)
        && string.Equals(RecordType, other.RecordType, StringComparison.Ordinal);

    public override bool Equals(object? obj) => obj is ContextKey other && Equals(other);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(Tenant, StringComparer.Ordinal);
        hash.Add(FlowDirection);
        foreach (var name in Interfaces ?? [])
        {
            hash.Add(name, StringComparer.Ordinal);
        }

        foreach (var direction in IfDirections ?? [])
        {
            hash.Add(direction);
        }

        hash.Add(Duplicate);
        hash.Add(AgentIP);
        hash.Add(Etype);
        hash.Add(Sampling);
        hash.Add(FlowLayer, StringComparer.Ordinal);
        hash.Add(ClusterName, StringComparer.Ordinal);
        hash.Add(RecordType, StringComparer.Ordinal);
        return hash.ToHashCode();
    }

    /// <summary>Every field, for a stable order of keys (not for display).</summary>
    public override string ToString() => string.Join('\u0001', Tenant, FlowDirection, string.Join(',', Interfaces ?? []),
        string.Join(',', IfDirections ?? []), Duplicate, AgentIP, Etype, Sampling, FlowLayer, ClusterName,
        RecordType);

    public static bool operator ==(ContextKey left, ContextKey right) => left.Equals(right);

    public static bool operator !=(ContextKey left, ContextKey right) => !left.Equals(right);

    /// <summary>Both null, or the same elements in the same order (strings compared ordinally).</summary>
    internal static bool SameElements<T>(T[]? a, T[]? b) =>
        a is null ? b is null : b is not null && a.AsSpan().SequenceEqual(b);
}
