using System.Net;
using System.Runtime.CompilerServices;
using NetObserv.Flows;

namespace NetObserv.Storage.Dictionaries;

/// <summary>
/// Recent endpoint and context ids, found by the identity of what a record carries rather than by its
/// text. Enrichment gives every flow of one pod the same string instances, so a repeated key is recognised
/// by comparing references, without cleaning and hashing its text as <see cref="EndpointKey"/> and
/// <see cref="ContextKey"/> do (interface names, which each reading thread makes its own instances of, are
/// compared by text). The same references always hold the same text, so a hit gives the id the full key
/// would; anything else (new instances of known text, a key not seen yet, an entry of an older generation)
/// is a miss and takes the full path. Direct-mapped and fixed in size: a key only replaces the one in its
/// slot. Safe for any number of threads: a slot holds an immutable entry, read and replaced whole.
/// </summary>
/// <param name="slots">Slots per kind of key, a power of two.</param>
internal sealed class IdentityIds(int slots = IdentityIds.DefaultSlots)
{
    /// <summary>Slots per kind of key unless told otherwise.</summary>
    public const int DefaultSlots = 4096;

    private readonly EndpointEntry?[] _endpoints = new EndpointEntry?[CheckSlots(slots)];
    private readonly ContextEntry?[] _contexts = new ContextEntry?[slots];
    private readonly int _mask = slots - 1;

    /// <summary>The id of <paramref name="m"/> with <paramref name="mac"/> if its slot holds it, of <paramref name="generation"/>.</summary>
    public bool TryGetEndpoint(KubernetesMetadata m, ulong? mac, long generation, out int id)
    {
        var entry = Volatile.Read(ref _endpoints[EndpointIndex(m, mac)]);
        if (entry is not null && entry.Generation == generation
            && ReferenceEquals(entry.Name, m.Name)
            && ReferenceEquals(entry.Namespace, m.Namespace)
            && ReferenceEquals(entry.Type, m.Type)
            && ReferenceEquals(entry.OwnerName, m.OwnerName)
            && ReferenceEquals(entry.OwnerType, m.OwnerType)
            && ReferenceEquals(entry.HostIP, m.HostIP)
            && ReferenceEquals(entry.HostName, m.HostName)
            && ReferenceEquals(entry.Zone, m.Zone)
            && ReferenceEquals(entry.SubnetLabel, m.SubnetLabel)
            && entry.Mac == mac)
        {
            id = entry.Id;
            return true;
        }

        id = 0;
        return false;
    }

    public void SetEndpoint(KubernetesMetadata m, ulong? mac, int id, long generation) =>
        Volatile.Write(ref _endpoints[EndpointIndex(m, mac)], new EndpointEntry(m, mac, id, generation));

    /// <summary>The context id of <paramref name="r"/> if its slot holds it, of <paramref name="generation"/>.</summary>
    public bool TryGetContext(FlowRecord r, long generation, out int id)
    {
        var entry = Volatile.Read(ref _contexts[ContextIndex(r)]);
        if (entry is not null && entry.Generation == generation
            && ReferenceEquals(entry.Tenant, r.Tenant)
            && entry.FlowDirection == r.FlowDirection
            && ContextKey.SameElements(entry.Interfaces, r.Interfaces)
            && ContextKey.SameElements(entry.IfDirections, r.IfDirections)
            && entry.Duplicate == r.Duplicate
            && Equals(entry.AgentIP, r.AgentIP)
            && entry.Etype == r.Etype
            && entry.Sampling == r.Sampling
            && ReferenceEquals(entry.FlowLayer, r.K8SFlowLayer)
            && ReferenceEquals(entry.ClusterName, r.K8SClusterName)
            && ReferenceEquals(entry.RecordType, r.RecordType))
        {
            id = entry.Id;
            return true;
        }

        id = 0;
        return false;
    }

    public void SetContext(FlowRecord r, int id, long generation) =>
        Volatile.Write(ref _contexts[ContextIndex(r)], new ContextEntry(r, id, generation));

    private static int CheckSlots(int slots) =>
        slots > 0 && (slots & (slots - 1)) == 0
            ? slots
            : throw new ArgumentOutOfRangeException(nameof(slots), slots, "a power of two is needed");

    private int EndpointIndex(KubernetesMetadata m, ulong? mac) =>
        HashCode.Combine(RuntimeHelpers.GetHashCode(m.Name), RuntimeHelpers.GetHashCode(m.Namespace),
            RuntimeHelpers.GetHashCode(m.HostName), mac) & _mask;

    private int ContextIndex(FlowRecord r)
    {
        // Every field that commonly differs between a node's contexts (IPv4 and IPv6, app and infra,
        // directions and interfaces): keys that share a slot push each other out.
        var interfaces = r.Interfaces;
        var directions = r.IfDirections;
        var h = Mix(0, r.FlowDirection ?? -1);
        h = Mix(h, r.AgentIP?.GetHashCode() ?? 0);
        h = Mix(h, interfaces is { Length: > 0 } ? Sketch(interfaces[^1]) : interfaces is null ? -1 : 0);
        h = Mix(h, directions is { Length: > 0 } ? (directions[^1] << 8) | directions.Length : directions is null ? -1 : 0);
        h = Mix(h, r.Duplicate is { } duplicate ? (duplicate ? 1 : 2) : 0);
        h = Mix(h, r.Etype ?? -1);
        h = Mix(h, r.Sampling ?? -1);
        h = Mix(h, RuntimeHelpers.GetHashCode(r.K8SFlowLayer));
        h = Mix(h, RuntimeHelpers.GetHashCode(r.RecordType));
        return (int)(h >> 32) & _mask;
    }

    private static ulong Mix(ulong hash, int value) => (hash ^ (uint)value) * 0x9E3779B97F4A7C15UL;

    // Interface names are hashed (and compared) by their text: each reading thread has its own instances.
    private static int Sketch(string name) =>
        name.Length == 0 ? 0 : name.Length | (name[0] << 8) | (name[^1] << 20);

    private sealed class EndpointEntry(KubernetesMetadata m, ulong? mac, int id, long generation)
    {
        public readonly string? Name = m.Name;
        public readonly string? Namespace = m.Namespace;
        public readonly string? Type = m.Type;
        public readonly string? OwnerName = m.OwnerName;
        public readonly string? OwnerType = m.OwnerType;
        public readonly IPAddress? HostIP = m.HostIP;
        public readonly string? HostName = m.HostName;
        public readonly string? Zone = m.Zone;
        public readonly string? SubnetLabel = m.SubnetLabel;
        public readonly ulong? Mac = mac;
        public readonly int Id = id;
        public readonly long Generation = generation;
    }

    private sealed class ContextEntry(FlowRecord r, int id, long generation)
    {
        public readonly string? Tenant = r.Tenant;
        public readonly int? FlowDirection = r.FlowDirection;

        // Copies: the record's own arrays could be changed after it is written.
        public readonly string[]? Interfaces = r.Interfaces is { } interfaces ? [.. interfaces] : null;
        public readonly int[]? IfDirections = r.IfDirections is { } directions ? [.. directions] : null;
        public readonly bool? Duplicate = r.Duplicate;
        public readonly IPAddress? AgentIP = r.AgentIP;
        public readonly int? Etype = r.Etype;
        public readonly int? Sampling = r.Sampling;
        public readonly string? FlowLayer = r.K8SFlowLayer;
        public readonly string? ClusterName = r.K8SClusterName;
        public readonly string? RecordType = r.RecordType;
        public readonly int Id = id;
        public readonly long Generation = generation;
    }
}
