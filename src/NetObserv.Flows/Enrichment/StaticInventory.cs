using System.Globalization;
using System.Net;
using System.Net.Sockets;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace NetObserv.Flows.Enrichment;

/// <summary>
/// A static inventory: addresses and CIDR ranges mapped to Kubernetes-like identities, for flows from
/// outside a cluster and for the demo. YAML or JSON (JSON is read as YAML's flow style):
/// <code>
/// nodes:                       # each node is indexed by its IPs as a Node entry
///   - name: worker-1
///     ip: 10.0.1.11            # the node's host IP; "ips: [..]" adds more addresses
///     zone: zone-a             # optional
/// entries:
///   - ip: 10.128.0.12          # exactly one of ip / cidr
///     type: Pod                # Pod or Service
///     namespace: shop
///     name: frontend-6d8f7c9b5d-x2x7p
///     ownerType: Deployment    # optional, with ownerName; default: the object owns itself
///     ownerName: frontend
///     node: worker-1           # optional (pods): host IP, host name and zone of that node
///   - cidr: 10.96.0.0/12
///     type: Service
///     namespace: default
///     name: cluster-services
/// </code>
/// Exact addresses win over ranges, and the longest range wins. Every problem is reported with its line
/// and entry (<see cref="StaticInventoryException"/>). The format is documented in docs/enrichment.md.
/// </summary>
public sealed class StaticInventory
{
    private static readonly HashSet<string> s_topKeys = new(StringComparer.Ordinal) { "nodes", "entries" };
    private static readonly HashSet<string> s_nodeKeys = new(StringComparer.Ordinal) { "name", "ip", "ips", "zone" };
    private static readonly HashSet<string> s_entryKeys = new(StringComparer.Ordinal)
    {
        "ip", "cidr", "type", "namespace", "name", "ownerType", "ownerName", "node",
    };

    private StaticInventory(EnrichmentIndex index, int nodeCount, int entryCount)
    {
        Index = index;
        NodeCount = nodeCount;
        EntryCount = entryCount;
    }

    /// <summary>The addresses and ranges of the file, ready to publish.</summary>
    public EnrichmentIndex Index { get; }

    public int NodeCount { get; }

    public int EntryCount { get; }

    /// <summary>Reads and validates <paramref name="path"/>.</summary>
    /// <exception cref="StaticInventoryException">The file is unreadable or invalid.</exception>
    public static StaticInventory Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StaticInventoryException(path, [e.Message]);
        }

        return Parse(text, path);
    }

    /// <summary>Parses and validates inventory text; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="StaticInventoryException">The text is not a valid inventory.</exception>
    public static StaticInventory Parse(string text, string source)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(source);

        // JSON is YAML flow style, except that YAML forbids tabs as indentation; a tab outside a JSON
        // string is only whitespace, and inside a string it would be invalid JSON anyway.
        if (text.TrimStart().StartsWith('{'))
        {
            text = text.Replace('\t', ' ');
        }

        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new StaticInventoryException(source, [$"line {e.Start.Line}: not valid YAML or JSON: {e.Message}"]);
        }

        var errors = new List<string>();
        var builder = new EnrichmentIndexBuilder();
        if (stream.Documents.Count == 0)
        {
            return new StaticInventory(builder.Build(), 0, 0);
        }

        if (stream.Documents.Count > 1)
        {
            errors.Add($"line {stream.Documents[1].RootNode.Start.Line}: one document expected, found {stream.Documents.Count}");
        }

        var root = stream.Documents[0].RootNode;
        if (root is YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            return new StaticInventory(builder.Build(), 0, 0);
        }

        if (root is not YamlMappingNode top)
        {
            throw new StaticInventoryException(source,
                [$"line {root.Start.Line}: the top level must be a mapping with 'nodes' and/or 'entries'"]);
        }

        CheckKeys(top, "", s_topKeys, errors);
        var nodes = ReadNodes(Child(top, "nodes"), builder, errors);
        var entryCount = ReadEntries(Child(top, "entries"), nodes, builder, errors);
        if (errors.Count > 0)
        {
            throw new StaticInventoryException(source, errors);
        }

        return new StaticInventory(builder.Build(), nodes.Count, entryCount);
    }

    private static Dictionary<string, EnrichmentEntry> ReadNodes(YamlNode? node, EnrichmentIndexBuilder builder,
        List<string> errors)
    {
        var nodes = new Dictionary<string, EnrichmentEntry>(StringComparer.Ordinal);
        if (!TryGetSequence(node, "nodes", errors, out var sequence))
        {
            return nodes;
        }

        var seen = new Dictionary<UInt128, string>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"nodes[{i}]";
            if (sequence.Children[i] is not YamlMappingNode map)
            {
                errors.Add($"line {sequence.Children[i].Start.Line}: {path}: a mapping with name and ip is expected");
                continue;
            }

            var before = errors.Count;
            CheckKeys(map, path, s_nodeKeys, errors);
            var name = RequiredString(map, "name", path, errors);
            var zone = OptionalString(map, "zone", path, errors);
            var addresses = new List<(IPAddress Address, YamlNode At)>();
            if (OptionalString(map, "ip", path, errors) is { } ipText)
            {
                AddAddress(ipText, Child(map, "ip")!, path + ".ip", addresses, errors);
            }

            if (Child(map, "ips") is { } ipsNode && TryGetSequence(ipsNode, path + ".ips", errors, out var ips))
            {
                for (var j = 0; j < ips.Children.Count; j++)
                {
                    if (ips.Children[j] is YamlScalarNode { Value: { } value })
                    {
                        AddAddress(value, ips.Children[j], $"{path}.ips[{j}]", addresses, errors);
                    }
                    else
                    {
                        errors.Add($"line {ips.Children[j].Start.Line}: {path}.ips[{j}]: an IP address is expected");
                    }
                }
            }

            if (addresses.Count == 0 && errors.Count == before)
            {
                errors.Add($"line {map.Start.Line}: {path}: 'ip' or 'ips' is required");
            }

            if (name is not null && nodes.ContainsKey(name))
            {
                errors.Add($"line {map.Start.Line}: {path}: node '{name}' is declared twice");
            }

            if (errors.Count > before || name is null)
            {
                continue;
            }

            var entry = new EnrichmentEntry(EnrichmentEntry.Node, name, null, EnrichmentEntry.Node, name,
                addresses[0].Address, name, zone);
            nodes[name] = entry;
            foreach (var (address, at) in addresses)
            {
                IpKeys.TryGetKey(address, out var key);
                if (seen.TryGetValue(key, out var other))
                {
                    errors.Add($"line {at.Start.Line}: {path}: address {address} already belongs to node '{other}'");
                    continue;
                }

                seen[key] = name;
                builder.Add(address, entry);
            }
        }

        return nodes;
    }

    private static int ReadEntries(YamlNode? node, Dictionary<string, EnrichmentEntry> nodes,
        EnrichmentIndexBuilder builder, List<string> errors)
    {
        if (!TryGetSequence(node, "entries", errors, out var sequence))
        {
            return 0;
        }

        var addresses = new Dictionary<UInt128, int>();
        var ranges = new Dictionary<(int, UInt128), int>();
        var count = 0;
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"entries[{i}]";
            if (sequence.Children[i] is not YamlMappingNode map)
            {
                errors.Add($"line {sequence.Children[i].Start.Line}: {path}: a mapping with ip or cidr, type and name is expected");
                continue;
            }

            var line = map.Start.Line;
            var before = errors.Count;
            CheckKeys(map, path, s_entryKeys, errors);
            var ipText = OptionalString(map, "ip", path, errors);
            var cidrText = OptionalString(map, "cidr", path, errors);
            var type = RequiredString(map, "type", path, errors);
            var ns = OptionalString(map, "namespace", path, errors);
            var name = RequiredString(map, "name", path, errors);
            var ownerType = OptionalString(map, "ownerType", path, errors);
            var ownerName = OptionalString(map, "ownerName", path, errors);
            var nodeName = OptionalString(map, "node", path, errors);

            IPAddress? ip = null, network = null;
            var prefix = 0;
            if ((ipText is null) == (cidrText is null))
            {
                errors.Add($"line {line}: {path}: exactly one of 'ip' or 'cidr' is required");
            }
            else if (ipText is not null && !TryParseAddress(ipText, out ip))
            {
                errors.Add($"line {Child(map, "ip")!.Start.Line}: {path}.ip: '{ipText}' is not an IP address");
            }
            else if (cidrText is not null && !TryParseCidr(cidrText, out network, out prefix))
            {
                errors.Add($"line {Child(map, "cidr")!.Start.Line}: {path}.cidr: '{cidrText}' is not a CIDR range "
                    + "(address/prefix length, e.g. 10.0.0.0/16 or fd00::/64)");
            }

            if (type is EnrichmentEntry.Node)
            {
                errors.Add($"line {line}: {path}.type: nodes are declared in the 'nodes' section (name, ip, zone)");
            }
            else if (type is not null and not EnrichmentEntry.Pod and not EnrichmentEntry.Service)
            {
                errors.Add($"line {Child(map, "type")!.Start.Line}: {path}.type: '{type}' is not Pod or Service");
            }

            if (type is EnrichmentEntry.Pod or EnrichmentEntry.Service && ns is null)
            {
                errors.Add($"line {line}: {path}: 'namespace' is required for a {type}");
            }

            if ((ownerType is null) != (ownerName is null))
            {
                errors.Add($"line {line}: {path}: 'ownerType' and 'ownerName' go together");
            }

            EnrichmentEntry? host = null;
            if (nodeName is not null)
            {
                if (type is EnrichmentEntry.Service)
                {
                    errors.Add($"line {line}: {path}.node: a Service has no node");
                }
                else if (!nodes.TryGetValue(nodeName, out host))
                {
                    errors.Add($"line {Child(map, "node")!.Start.Line}: {path}.node: '{nodeName}' is not declared in 'nodes'");
                }
            }

            if (errors.Count > before || type is null || name is null)
            {
                continue;
            }

            var entry = new EnrichmentEntry(type, name, ns, ownerType ?? type, ownerName ?? name, host?.HostIP,
                host?.HostName, host?.Zone);
            if (ip is not null)
            {
                IpKeys.TryGetKey(ip, out var key);
                if (addresses.TryGetValue(key, out var first))
                {
                    errors.Add($"line {line}: {path}.ip: {ip} is already mapped by entries[{first}]");
                    continue;
                }

                addresses[key] = i;
                builder.Add(ip, entry);
            }
            else
            {
                IpKeys.TryGetKey(network!, out var key);
                var keyPrefix = IpKeys.KeyPrefixLength(network!, prefix);
                var rangeKey = (keyPrefix, key & IpKeys.Mask(keyPrefix));
                if (ranges.TryGetValue(rangeKey, out var first))
                {
                    errors.Add($"line {line}: {path}.cidr: {cidrText} is already mapped by entries[{first}]");
                    continue;
                }

                ranges[rangeKey] = i;
                builder.AddCidr(network!, prefix, entry);
            }

            count++;
        }

        return count;
    }

    private static void AddAddress(string text, YamlNode at, string path, List<(IPAddress, YamlNode)> addresses,
        List<string> errors)
    {
        if (TryParseAddress(text, out var address))
        {
            addresses.Add((address, at));
        }
        else
        {
            errors.Add($"line {at.Start.Line}: {path}: '{text}' is not an IP address");
        }
    }

    private static bool TryParseAddress(string text, out IPAddress address)
    {
        // IPAddress.TryParse accepts "10" or "10.1" as shorthand; an inventory wants the full form.
        if (IPAddress.TryParse(text, out var parsed)
            && (parsed.AddressFamily == AddressFamily.InterNetworkV6 || text.Count(c => c == '.') == 3))
        {
            address = parsed;
            return true;
        }

        address = IPAddress.None;
        return false;
    }

    private static bool TryParseCidr(string text, out IPAddress network, out int prefix)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        network = IPAddress.None;
        prefix = 0;
        if (slash <= 0
            || !TryParseAddress(text[..slash], out network)
            || !int.TryParse(text.AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out prefix))
        {
            return false;
        }

        var max = network.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        return prefix <= max;
    }

    private static YamlNode? Child(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    private static bool TryGetSequence(YamlNode? node, string path, List<string> errors, out YamlSequenceNode sequence)
    {
        sequence = null!;
        switch (node)
        {
            case null:
            case YamlScalarNode { Value: null or "" or "~" or "null" }:
                return false;
            case YamlSequenceNode s:
                sequence = s;
                return true;
            default:
                errors.Add($"line {node.Start.Line}: {path}: a list is expected");
                return false;
        }
    }

    private static void CheckKeys(YamlMappingNode map, string path, HashSet<string> allowed, List<string> errors)
    {
        foreach (var key in map.Children.Keys)
        {
            var name = (key as YamlScalarNode)?.Value ?? "?";
            if (!allowed.Contains(name))
            {
                var where = path.Length == 0 ? "" : path + ": ";
                errors.Add($"line {key.Start.Line}: {where}unknown key '{name}' (expected one of: "
                    + string.Join(", ", allowed) + ")");
            }
        }
    }

    private static string? OptionalString(YamlMappingNode map, string key, string path, List<string> errors)
    {
        switch (Child(map, key))
        {
            case null:
            case YamlScalarNode { Value: null or "" or "~" or "null" }:
                return null;
            case YamlScalarNode scalar:
                return scalar.Value;
            case var other:
                errors.Add($"line {other.Start.Line}: {path}.{key}: a single value is expected");
                return null;
        }
    }

    private static string? RequiredString(YamlMappingNode map, string key, string path, List<string> errors)
    {
        var value = OptionalString(map, key, path, errors);
        if (value is null && Child(map, key) is null or YamlScalarNode)
        {
            errors.Add($"line {map.Start.Line}: {path}: '{key}' is required");
        }

        return value;
    }
}
