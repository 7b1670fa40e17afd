using System.Text.Json.Nodes;

namespace NetObserv.Server.Tests.Enrichment;

/// <summary>Kubernetes objects shaped as the API server serves them (the fields enrichment reads, and some it does not).</summary>
internal static class KubernetesObjects
{
    public static JsonObject Node(string name, string internalIp, string zone, string? externalIp = null)
    {
        var addresses = new JsonArray
        {
            new JsonObject { ["type"] = "InternalIP", ["address"] = internalIp },
            new JsonObject { ["type"] = "Hostname", ["address"] = name },
        };
        if (externalIp is not null)
        {
            addresses.Add(new JsonObject { ["type"] = "ExternalIP", ["address"] = externalIp });
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Node",
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["uid"] = Guid.NewGuid().ToString(),
                ["resourceVersion"] = "1",
                ["labels"] = new JsonObject
                {
                    ["kubernetes.io/hostname"] = name,
                    ["kubernetes.io/os"] = "linux",
                    ["topology.kubernetes.io/zone"] = zone,
                },
            },
            ["spec"] = new JsonObject { ["podCIDR"] = "10.128.0.0/23" },
            ["status"] = new JsonObject
            {
                ["addresses"] = addresses,
                ["conditions"] = new JsonArray { new JsonObject { ["type"] = "Ready", ["status"] = "True" } },
                ["nodeInfo"] = new JsonObject { ["kubeletVersion"] = "v1.31.2", ["osImage"] = "Debian GNU/Linux 12" },
            },
        };
    }

    public static JsonObject Pod(string ns, string name, string? podIp, string nodeName, string hostIp,
        string? ownerKind = null, string? ownerName = null, string phase = "Running")
    {
        var metadata = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["uid"] = Guid.NewGuid().ToString(),
            ["resourceVersion"] = "1",
            ["creationTimestamp"] = "2026-11-25T09:00:00Z",
            ["labels"] = new JsonObject { ["app"] = ownerName ?? name },
        };
        if (ownerKind is not null)
        {
            metadata["ownerReferences"] = new JsonArray
            {
                new JsonObject
                {
                    ["apiVersion"] = ownerKind == "Job" ? "batch/v1" : "apps/v1",
                    ["kind"] = ownerKind,
                    ["name"] = ownerName,
                    ["uid"] = Guid.NewGuid().ToString(),
                    ["controller"] = true,
                    ["blockOwnerDeletion"] = true,
                },
            };
        }

        var status = new JsonObject
        {
            ["phase"] = phase,
            ["hostIP"] = hostIp,
            ["hostIPs"] = new JsonArray { new JsonObject { ["ip"] = hostIp } },
            ["startTime"] = "2026-11-25T09:00:01Z",
        };
        if (podIp is not null)
        {
            status["podIP"] = podIp;
            status["podIPs"] = new JsonArray { new JsonObject { ["ip"] = podIp } };
        }

        return new JsonObject
        {
            ["apiVersion"] = "v1",
            ["kind"] = "Pod",
            ["metadata"] = metadata,
            ["spec"] = new JsonObject
            {
                ["nodeName"] = nodeName,
                ["hostNetwork"] = podIp == hostIp,
                ["containers"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["name"] = "main",
                        ["image"] = "registry.example/app:1.0",
                        ["ports"] = new JsonArray { new JsonObject { ["containerPort"] = 8080, ["protocol"] = "TCP" } },
                    },
                },
            },
            ["status"] = status,
        };
    }

    public static JsonObject Service(string ns, string name, string clusterIp) => new()
    {
        ["apiVersion"] = "v1",
        ["kind"] = "Service",
        ["metadata"] = new JsonObject
        {
            ["name"] = name,
            ["namespace"] = ns,
            ["uid"] = Guid.NewGuid().ToString(),
            ["resourceVersion"] = "1",
        },
        ["spec"] = new JsonObject
        {
            ["type"] = "ClusterIP",
            ["clusterIP"] = clusterIp,
            ["clusterIPs"] = new JsonArray { clusterIp },
            ["ipFamilies"] = new JsonArray { "IPv4" },
            ["ports"] = new JsonArray
            {
                new JsonObject { ["name"] = "http", ["port"] = 80, ["protocol"] = "TCP", ["targetPort"] = 8080 },
            },
            ["selector"] = new JsonObject { ["app"] = name },
        },
        ["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() },
    };

    public static JsonObject ReplicaSet(string ns, string name, string deployment) =>
        Owned("apps/v1", "ReplicaSet", ns, name, "apps/v1", "Deployment", deployment,
            new JsonObject { ["replicas"] = 2 });

    public static JsonObject Job(string ns, string name, string cronJob) =>
        Owned("batch/v1", "Job", ns, name, "batch/v1", "CronJob", cronJob, new JsonObject { ["backoffLimit"] = 6 });

    private static JsonObject Owned(string apiVersion, string kind, string ns, string name, string ownerApiVersion,
        string ownerKind, string ownerName, JsonObject spec) => new()
        {
            ["apiVersion"] = apiVersion,
            ["kind"] = kind,
            ["metadata"] = new JsonObject
            {
                ["name"] = name,
                ["namespace"] = ns,
                ["uid"] = Guid.NewGuid().ToString(),
                ["resourceVersion"] = "1",
                ["ownerReferences"] = new JsonArray
                {
                    new JsonObject
                    {
                        ["apiVersion"] = ownerApiVersion,
                        ["kind"] = ownerKind,
                        ["name"] = ownerName,
                        ["uid"] = Guid.NewGuid().ToString(),
                        ["controller"] = true,
                        ["blockOwnerDeletion"] = true,
                    },
                },
            },
            ["spec"] = spec,
            ["status"] = new JsonObject(),
        };
}
