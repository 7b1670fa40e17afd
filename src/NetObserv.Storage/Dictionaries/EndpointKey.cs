using System.Net;
using NetObserv.Flows;
using NetObserv.Storage.Copy;

namespace NetObserv.Storage.Dictionaries;

/// <summary>
/// A row of <c>flow_endpoints</c>: the Kubernetes side of one address and the MAC address seen at that end,
/// cleaned as it is stored.
/// </summary>
internal readonly record struct EndpointKey(string? Type, string? Namespace, string? Name, string? OwnerType,
    string? OwnerName, IPAddress? HostIP, string? HostName, string? Zone, string? SubnetLabel, ulong? Mac)
{
    public static EndpointKey Of(KubernetesMetadata m, ulong? mac) => new(FlowText.Clean(m.Type),
        FlowText.Clean(m.Namespace), FlowText.Clean(m.Name), FlowText.Clean(m.OwnerType), FlowText.Clean(m.OwnerName),
        m.HostIP, FlowText.Clean(m.HostName), FlowText.Clean(m.Zone), FlowText.Clean(m.SubnetLabel), mac);
}
