using System.Text;
using NetObserv.Flows.Enrichment;
using NetObserv.Server.Loadgen;

namespace NetObserv.Server.Demo;

/// <summary>
/// The synthetic cluster as a static inventory file (docs/enrichment.md): its nodes, every pod address
/// with its workload and node, every Service address. The demo points <c>Enrichment:InventoryFile</c>
/// at it, so its flows are enriched by the same inventory machinery a user's file goes through.
/// </summary>
internal static class DemoInventory
{
    /// <summary>The inventory text (YAML) of <paramref name="cluster"/>.</summary>
    public static string Build(SyntheticCluster cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        var text = new StringBuilder();
        text.AppendLine("# Written by netobserv-backend serve --demo: the synthetic cluster's addresses.");
        text.AppendLine("nodes:");
        foreach (var node in cluster.Nodes)
        {
            text.Append("  - name: ").AppendLine(Quote(node.Name));
            text.Append("    ips: [").Append(Quote(node.IPv4.ToString())).Append(", ")
                .Append(Quote(node.IPv6.ToString())).AppendLine("]");
            text.Append("    zone: ").AppendLine(Quote(node.Zone));
        }

        text.AppendLine("entries:");
        foreach (var pod in cluster.Pods.Where(p => !p.HostNetwork))
        {
            foreach (var address in new[] { pod.IPv4, pod.IPv6 })
            {
                text.Append("  - ip: ").AppendLine(Quote(address.ToString()));
                text.AppendLine("    type: Pod");
                text.Append("    namespace: ").AppendLine(Quote(pod.Workload.Namespace));
                text.Append("    name: ").AppendLine(Quote(pod.Name));
                text.Append("    ownerType: ").AppendLine(Quote(pod.Workload.Kind));
                text.Append("    ownerName: ").AppendLine(Quote(pod.Workload.Name));
                text.Append("    node: ").AppendLine(Quote(pod.Node.Name));
            }
        }

        foreach (var workload in cluster.Workloads.Where(w => w.ServiceIPv4 is not null))
        {
            foreach (var address in new[] { workload.ServiceIPv4!, workload.ServiceIPv6! })
            {
                text.Append("  - ip: ").AppendLine(Quote(address.ToString()));
                text.AppendLine("    type: Service");
                text.Append("    namespace: ").AppendLine(Quote(workload.Namespace));
                text.Append("    name: ").AppendLine(Quote(workload.Name));
            }
        }

        return text.ToString();
    }

    /// <summary>Writes the inventory of <paramref name="cluster"/> to <paramref name="path"/> (checked by parsing it back).</summary>
    /// <exception cref="StaticInventoryException">The written inventory does not parse (a bug).</exception>
    public static void Write(SyntheticCluster cluster, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var text = Build(cluster);
        StaticInventory.Parse(text, path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
