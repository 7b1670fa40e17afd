using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using NetObserv.Server.Auth;
using Npgsql;

namespace NetObserv.Server.Tests.Deploy;

/// <summary>Every kustomization renders, and the rendered objects point at each other correctly.</summary>
public sealed class DeploymentTests
{
    private const string Base = "deploy/base";
    private const string Backend = "netobserv-backend";

    private static readonly string[] s_listenerPorts = ["2055/TCP", "2055/UDP", "3100/TCP", "4739/UDP", "9090/TCP"];

    public static TheoryData<string> Kustomizations() => new(Kustomize.Directories);

    [Theory]
    [MemberData(nameof(Kustomizations))]
    public async Task Render_Kustomization_Succeeds(string directory)
    {
        var manifests = await Kustomize.RenderAsync(directory);

        Assert.NotEmpty(manifests.Objects);
        Assert.All(manifests.Objects, o =>
        {
            Assert.False(string.IsNullOrEmpty((string?)o["apiVersion"]));
            Assert.False(string.IsNullOrEmpty((string?)o["kind"]));
            Assert.False(string.IsNullOrEmpty((string?)o["metadata"]?["name"]));
        });
    }

    [Theory]
    [InlineData("deploy/overlays/grafana-operator-v5", "grafana.integreatly.org/v1beta1")]
    [InlineData("deploy/overlays/grafana-operator-v4", "integreatly.org/v1alpha1")]
    public async Task GrafanaDashboards_Overlay_CarryTheDashboardsFolderJson(string overlay, string apiVersion)
    {
        var manifests = await Kustomize.RenderAsync(overlay);
        var resources = manifests.OfKind("GrafanaDashboard").ToList();

        Assert.All(resources, r => Assert.Equal(apiVersion, (string?)r["apiVersion"]));
        var carried = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            var reference = resource["spec"]!["configMapRef"]!;
            var configMap = manifests.Single("ConfigMap", (string)reference["name"]!);
            // configMapRef names a ConfigMap in the resource's own namespace.
            Assert.Equal((string?)resource["metadata"]!["namespace"], (string?)configMap["metadata"]!["namespace"]);
            var key = (string)reference["key"]!;
            carried.Add(key, JsonNode.Parse((string)configMap["data"]![key]!)!);
        }

        var dashboards = RepositoryFiles.Dashboards();
        Assert.Equal(dashboards.Keys, carried.Keys.Order(StringComparer.Ordinal));
        foreach (var (file, json) in dashboards)
        {
            Assert.True(JsonNode.DeepEquals(json, carried[file]), $"{overlay}: {file} differs from dashboards/{file}");
        }
    }

    [Fact]
    public async Task GrafanaProvisioning_Mounts_CarryTheDashboardsFolderJsonAndTheDatasourceFile()
    {
        var manifests = await Kustomize.RenderAsync("deploy/grafana");
        var grafana = manifests.Single("Deployment", "grafana");

        var datasources = MountedConfigMap(manifests, grafana, "/etc/grafana/provisioning/datasources");
        Assert.True(JsonNode.DeepEquals(
            YamlJson.ParseSingle(RepositoryFiles.Read("deploy/grafana/provisioning/datasources/netobserv.yaml")),
            YamlJson.ParseSingle((string)datasources["data"]!["netobserv.yaml"]!)));

        var providers = MountedConfigMap(manifests, grafana, "/etc/grafana/provisioning/dashboards");
        var providerFile = RepositoryFiles.Read("deploy/grafana/provisioning/dashboards/netobserv.yaml");
        Assert.Equal(providerFile, (string)providers["data"]!["netobserv.yaml"]!);
        var provider = Assert.Single(YamlJson.ParseSingle(providerFile)["providers"]!.AsArray())!;
        Assert.Equal("file", (string?)provider["type"]);

        var dashboards = MountedConfigMap(manifests, grafana, (string)provider["options"]!["path"]!);
        var files = RepositoryFiles.Dashboards();
        Assert.Equal(files.Keys, dashboards["data"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        foreach (var (file, json) in files)
        {
            Assert.True(JsonNode.DeepEquals(json, JsonNode.Parse((string)dashboards["data"]![file]!)),
                $"the provisioned {file} differs from dashboards/{file}");
        }
    }

    [Theory]
    [InlineData("deploy/overlays/grafana-operator-v5")]
    [InlineData("deploy/overlays/grafana-operator-v4")]
    [InlineData("deploy/overlays/grafana-operator-v5-plugin")]
    [InlineData("deploy/grafana")]
    public async Task Datasource_Url_PointsAtTheBackendHttpPort(string directory)
    {
        var manifests = await Kustomize.RenderAsync(directory);
        var datasource = Assert.Single(Datasources(manifests), d => (string?)d["type"] == "loki");

        var service = manifests.Single("Service", Backend);
        var url = new Uri((string)datasource["url"]!);
        Assert.Equal("loki", (string?)datasource["type"]);
        Assert.Equal("http", url.Scheme);
        Assert.Equal($"{service["metadata"]!["name"]}.{service["metadata"]!["namespace"]}.svc", url.Host);
        var port = ServicePort(service, "http");
        Assert.Equal(url.Port, (int)port["port"]!);
        Assert.Equal("TCP", (string?)port["protocol"]);
        Assert.Equal(3100, ContainerPort(manifests, port));

        // The dashboards' datasource variable defaults to this datasource.
        foreach (var (_, dashboard) in RepositoryFiles.Dashboards())
        {
            var variable = Assert.Single(DashboardTests.Variables(dashboard), v => (string?)v["name"] == "datasource");
            Assert.Equal((string?)datasource["uid"], (string?)variable["current"]?["value"]);
        }
    }

    [Theory]
    [InlineData("deploy/overlays/grafana-operator-v5-plugin")]
    [InlineData("deploy/grafana")]
    public async Task PluginDatasource_Url_PointsAtTheQueryGrpcPortAndGrafanaLoadsThePlugin(string directory)
    {
        var manifests = await Kustomize.RenderAsync(directory);
        var datasource = Assert.Single(Datasources(manifests), d => (string?)d["type"] == "netobserv-flows-datasource");

        // The URL is the backend's gRPC query API: Service port query-grpc, container port 9090, Server:QueryGrpcPort.
        var service = manifests.Single("Service", Backend);
        var url = new Uri((string)datasource["url"]!);
        Assert.Equal("http", url.Scheme);
        Assert.Equal($"{service["metadata"]!["name"]}.{service["metadata"]!["namespace"]}.svc", url.Host);
        var port = ServicePort(service, "query-grpc");
        Assert.Equal(url.Port, (int)port["port"]!);
        Assert.Equal(9090, ContainerPort(manifests, port));
        var configMap = manifests.Single("ConfigMap", "netobserv-backend-config");
        Assert.Equal(9090, (int)JsonNode.Parse((string)configMap["data"]!["appsettings.json"]!)!["Server"]!["QueryGrpcPort"]!);

        // Grafana's pod: an init container of the backend image copies the plugin the Dockerfile puts in
        // the image into the volume mounted as Grafana's plugin folder, and the plugin may load unsigned.
        var grafana = manifests.OfKind("Grafana").SingleOrDefault();
        var pod = grafana is not null
            ? grafana["spec"]!["deployment"]!["spec"]!["template"]!["spec"]!
            : manifests.Single("Deployment", "grafana")["spec"]!["template"]!["spec"]!;
        var init = Assert.Single(pod["initContainers"]!.AsArray())!;
        var backendImage = (string)Assert.Single(manifests.Single("Deployment", Backend)["spec"]!["template"]!["spec"]!["containers"]!.AsArray())!["image"]!;
        Assert.Equal(backendImage, (string?)init["image"]);
        var command = init["command"]!.AsArray().Select(c => (string)c!).ToList();
        Assert.Contains("/opt/netobserv/grafana-plugin/netobserv-flows-datasource/.", command);
        Assert.Contains("COPY --from=build /plugin/netobserv-flows-datasource /opt/netobserv/grafana-plugin/netobserv-flows-datasource",
            RepositoryFiles.Read("Dockerfile"), StringComparison.Ordinal);
        var volume = (string)Assert.Single(init["volumeMounts"]!.AsArray())!["name"]!;
        var grafanaContainer = pod["containers"]!.AsArray().Single(c => (string?)c!["name"] == "grafana")!;
        Assert.Contains(grafanaContainer["volumeMounts"]!.AsArray(), m => (string?)m!["name"] == volume
            && (string?)m["mountPath"] == "/var/lib/grafana/plugins/netobserv-flows-datasource");
        var unsigned = grafana is not null
            ? (string?)grafana["spec"]!["config"]!["plugins"]!["allow_loading_unsigned_plugins"]
            : (string?)grafanaContainer["env"]!.AsArray().Single(e => (string?)e!["name"] == "GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS")!["value"];
        Assert.Equal("netobserv-flows-datasource", unsigned);
    }

    [Theory]
    [InlineData("deploy/overlays/grafana-operator-v5")]
    [InlineData("deploy/overlays/grafana-operator-v4")]
    [InlineData("deploy/grafana")]
    public async Task Datasource_Token_FromSecretIsAQueryTokenOfTheBackend(string directory)
    {
        var manifests = await Kustomize.RenderAsync(directory);
        var datasource = Assert.Single(Datasources(manifests), d => (string?)d["type"] == "loki");

        Assert.Equal("Authorization", (string?)datasource["jsonData"]!["httpHeaderName1"]);
        Assert.Matches(@"^Bearer \$\{?NETOBSERV_TOKEN\}?$", (string?)datasource["secureJsonData"]!["httpHeaderValue1"]);
        var token = (string)manifests.Single("Secret", "netobserv-grafana-token")["stringData"]!["NETOBSERV_TOKEN"]!;
        var tokens = TokenFile.Parse(
            (string)manifests.Single("Secret", "netobserv-backend-tokens")["stringData"]!["tokens.yaml"]!, "tokens.yaml");
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        var grant = Assert.Single(tokens.Tokens, t => t.Hash.AsSpan().SequenceEqual(hash)).Grant;
        Assert.True(grant.CanQuery);
    }

    [Fact]
    public async Task BackendDeployment_ListenAndTokens_ComeFromTheSecretMount()
    {
        var manifests = await Kustomize.RenderAsync(Base);
        var pod = manifests.Single("Deployment", Backend)["spec"]!["template"]!["spec"]!;
        var container = Assert.Single(pod["containers"]!.AsArray())!;
        string Env(string name) => (string)container["env"]!.AsArray().Single(e => (string?)e!["name"] == name)!["value"]!;

        Assert.Equal("*", Env("NETOBSERV_LISTEN"));
        var file = Env("NETOBSERV_AUTH_FILE");
        var mount = container["volumeMounts"]!.AsArray().Single(m => file.StartsWith((string)m!["mountPath"]! + "/", StringComparison.Ordinal))!;
        Assert.Null(mount["subPath"]);
        var volume = pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
        var secret = manifests.Single("Secret", (string)volume["secret"]!["secretName"]!);
        Assert.NotEmpty(TokenFile.Parse((string)secret["stringData"]![Path.GetFileName(file)]!, file).Tokens);
    }

    [Fact]
    public async Task AgentDaemonSet_Target_IsTheBackendGrpcPort()
    {
        var manifests = await Kustomize.RenderAsync(Base);
        var agent = manifests.Single("DaemonSet", "netobserv-ebpf-agent");
        var pod = agent["spec"]!["template"]!["spec"]!;
        var container = Assert.Single(pod["containers"]!.AsArray())!;
        var env = Env(container);

        var service = manifests.Single("Service", Backend);
        var grpc = ServicePort(service, "grpc");
        Assert.Equal("grpc", env["EXPORT"]);
        Assert.Equal($"{service["metadata"]!["name"]}.{service["metadata"]!["namespace"]}.svc", env["TARGET_HOST"]);
        Assert.Equal(((int)grpc["port"]!).ToString(System.Globalization.CultureInfo.InvariantCulture), env["TARGET_PORT"]);
        Assert.Equal("TCP", (string?)grpc["protocol"]);
        Assert.Equal(2055, ContainerPort(manifests, grpc));
        Assert.True(env.ContainsKey("SAMPLING") && env.ContainsKey("CACHE_ACTIVE_TIMEOUT"));

        Assert.True((bool?)pod["hostNetwork"]);
        Assert.Equal("ClusterFirstWithHostNet", (string?)pod["dnsPolicy"]);
        Assert.True((bool?)container["securityContext"]?["privileged"]);
        var image = (string)container["image"]!;
        Assert.StartsWith("quay.io/netobserv/netobserv-ebpf-agent:v", image, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BackendService_Ports_AreTheListenersWithDistinctNames()
    {
        var manifests = await Kustomize.RenderAsync(Base);
        var service = manifests.Single("Service", Backend);
        var ports = service["spec"]!["ports"]!.AsArray().Select(p => p!).ToList();

        Assert.Equal(
            s_listenerPorts,
            ports.Select(p => $"{(int)p["port"]!}/{(string)p["protocol"]!}").Order(StringComparer.Ordinal));
        Assert.Equal(ports.Count, ports.Select(p => (string)p["name"]!).Distinct(StringComparer.Ordinal).Count());
        foreach (var port in ports)
        {
            // Every Service port lands on the container port of the same number and protocol.
            Assert.Equal((int)port["port"]!, ContainerPort(manifests, port));
        }
    }

    [Fact]
    public async Task Dockerfile_ExposedPortsAndUser_MatchTheDeployment()
    {
        var manifests = await Kustomize.RenderAsync(Base);
        var service = manifests.Single("Service", Backend);
        var lines = RepositoryFiles.Read("Dockerfile").Split('\n');

        var exposed = lines.Where(l => l.StartsWith("EXPOSE ", StringComparison.Ordinal))
            .SelectMany(l => l["EXPOSE ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(p => p.ToUpperInvariant())
            .Order(StringComparer.Ordinal);
        var servicePorts = service["spec"]!["ports"]!.AsArray()
            .Select(p => $"{(int)p!["port"]!}/{(string)p["protocol"]!}")
            .Order(StringComparer.Ordinal);
        Assert.Equal(servicePorts, exposed);

        // The runtime stage runs as the .NET images' unprivileged account, the one the Deployment names.
        var runtime = lines.SkipWhile(l => !l.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:", StringComparison.Ordinal));
        Assert.Contains("USER $APP_UID", runtime);
        Assert.Contains("ENTRYPOINT [\"/app/netobserv-backend\"]", runtime);
        var deployment = manifests.Single("Deployment", Backend);
        Assert.Equal(1654, (int?)deployment["spec"]!["template"]!["spec"]!["securityContext"]!["runAsUser"]);
    }

    [Fact]
    public async Task BackendDeployment_ProbesAndConfiguration_MatchTheServer()
    {
        var manifests = await Kustomize.RenderAsync(Base);
        var deployment = manifests.Single("Deployment", Backend);
        var container = Assert.Single(deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray())!;

        Assert.Equal(["serve"], container["args"]!.AsArray().Select(a => (string)a!));
        Assert.Equal("/ready", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/healthz", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
        foreach (var probe in new[] { "readinessProbe", "livenessProbe" })
        {
            var port = container[probe]!["httpGet"]!["port"]!;
            Assert.Equal(3100, ContainerPortNumber(container, port, "TCP"));
        }

        var database = container["env"]!.AsArray().Single(e => (string?)e!["name"] == "NETOBSERV_DATABASE")!;
        var secretRef = database["valueFrom"]!["secretKeyRef"]!;
        var secret = manifests.Single("Secret", (string)secretRef["name"]!);
        Assert.NotNull(secret["stringData"]![(string)secretRef["key"]!]);

        // The mounted appsettings.json names the same ports the container and Service expose.
        var configMap = manifests.Single("ConfigMap", "netobserv-backend-config");
        var settings = JsonNode.Parse((string)configMap["data"]!["appsettings.json"]!)!["Server"]!;
        Assert.Equal(3100, ContainerPortNumber(container, JsonValue.Create("http"), "TCP"));
        Assert.Equal((int)settings["HttpPort"]!, ContainerPortNumber(container, JsonValue.Create("http"), "TCP"));
        Assert.Equal((int)settings["GrpcPort"]!, ContainerPortNumber(container, JsonValue.Create("grpc"), "TCP"));
        Assert.Equal((int)settings["QueryGrpcPort"]!, ContainerPortNumber(container, JsonValue.Create("query-grpc"), "TCP"));
        Assert.Equal((int)settings["IpfixPort"]!, ContainerPortNumber(container, JsonValue.Create("ipfix"), "UDP"));
        Assert.Equal((int)settings["NetflowPort"]!, ContainerPortNumber(container, JsonValue.Create("netflow"), "UDP"));
    }

    [Fact]
    public async Task PostgresSecret_ConnectionString_MatchesTheDatabaseAndItsService()
    {
        var manifests = await Kustomize.RenderAsync(Base);
        var secret = manifests.Single("Secret", "netobserv-postgres")["stringData"]!;
        var database = manifests.Single("StatefulSet", "netobserv-postgres");
        var service = manifests.Single("Service", (string)database["spec"]!["serviceName"]!);

        var connection = new NpgsqlConnectionStringBuilder((string)secret["NETOBSERV_DATABASE"]!);
        Assert.Equal((string?)service["metadata"]!["name"], connection.Host);
        Assert.Equal((int)ServicePort(service, "postgres")["port"]!, connection.Port);
        Assert.Equal((string?)secret["POSTGRES_USER"], connection.Username);
        Assert.Equal((string?)secret["POSTGRES_PASSWORD"], connection.Password);
        Assert.Equal((string?)secret["POSTGRES_DB"], connection.Database);

        var container = Assert.Single(database["spec"]!["template"]!["spec"]!["containers"]!.AsArray())!;
        Assert.StartsWith("timescale/timescaledb:", (string?)container["image"], StringComparison.Ordinal);
        Assert.NotEmpty(database["spec"]!["volumeClaimTemplates"]!.AsArray());
    }

    [Fact]
    public async Task BackendRbac_Informer_CanWatchItsObjects()
    {
        var manifests = await Kustomize.RenderAsync(Base);
        var deployment = manifests.Single("Deployment", Backend);
        var account = (string)deployment["spec"]!["template"]!["spec"]!["serviceAccountName"]!;
        var binding = manifests.OfKind("ClusterRoleBinding").Single(b => b["subjects"]!.AsArray().Any(s =>
            (string?)s!["name"] == account && (string?)s["namespace"] == (string?)deployment["metadata"]!["namespace"]));
        var role = manifests.Single("ClusterRole", (string)binding["roleRef"]!["name"]!);

        var granted = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rule in role["rules"]!.AsArray())
        {
            var verbs = rule!["verbs"]!.AsArray().Select(v => (string)v!).ToHashSet(StringComparer.Ordinal);
            if (verbs.IsSupersetOf(["get", "list", "watch"]))
            {
                foreach (var group in rule["apiGroups"]!.AsArray())
                {
                    foreach (var resource in rule["resources"]!.AsArray())
                    {
                        granted.Add($"{group}/{resource}");
                    }
                }
            }
        }

        Assert.Subset(granted, new HashSet<string>(StringComparer.Ordinal)
        {
            "/pods", "/services", "/nodes", "apps/replicasets", "batch/jobs",
        });
    }

    [Fact]
    public async Task ArgoApplications_Path_IsARenderedKustomization()
    {
        var files = Directory.GetFiles(RepositoryFiles.PathOf("deploy/argocd"), "*.yaml");
        Assert.NotEmpty(files);
        var paths = new List<string>();
        foreach (var file in files)
        {
            var application = YamlJson.ParseSingle(File.ReadAllText(file));
            Assert.Equal("Application", (string?)application["kind"]);
            Assert.Equal("netobserv", (string?)application["spec"]!["destination"]!["namespace"]);
            var path = (string)application["spec"]!["source"]!["path"]!;
            Assert.Contains(path, Kustomize.Directories);
            var manifests = await Kustomize.RenderAsync(path);
            Assert.Contains(manifests.OfKind("Deployment"), d => (string?)d["metadata"]!["name"] == Backend);
            paths.Add(path);
        }

        Assert.Equal(paths.Count, paths.Distinct(StringComparer.Ordinal).Count());
    }

    private static JsonObject MountedConfigMap(Manifests manifests, JsonObject deployment, string mountPath)
    {
        var pod = deployment["spec"]!["template"]!["spec"]!;
        var mount = pod["containers"]!.AsArray()
            .SelectMany(c => c!["volumeMounts"]!.AsArray())
            .Single(m => (string?)m!["mountPath"] == mountPath)!;
        var volume = pod["volumes"]!.AsArray().Single(v => (string?)v!["name"] == (string?)mount["name"])!;
        return manifests.Single("ConfigMap", (string)volume["configMap"]!["name"]!);
    }

    private static IEnumerable<JsonObject> Datasources(Manifests manifests)
    {
        foreach (var resource in manifests.OfKind("GrafanaDatasource"))
        {
            var datasource = resource["spec"]!["datasource"]!.DeepClone().AsObject();
            datasource["uid"] = resource["spec"]!["uid"]!.DeepClone();
            yield return datasource;
        }

        foreach (var resource in manifests.OfKind("GrafanaDataSource"))
        {
            foreach (var datasource in resource["spec"]!["datasources"]!.AsArray())
            {
                yield return datasource!.AsObject();
            }
        }

        foreach (var configMap in manifests.OfKind("ConfigMap"))
        {
            foreach (var (_, value) in configMap["data"]?.AsObject() ?? [])
            {
                var text = (string)value!;
                if (text.Contains("datasources:", StringComparison.Ordinal) && !text.TrimStart().StartsWith('{'))
                {
                    foreach (var datasource in YamlJson.ParseSingle(text)["datasources"]!.AsArray())
                    {
                        yield return datasource!.AsObject();
                    }
                }
            }
        }
    }

    private static JsonNode ServicePort(JsonObject service, string name) =>
        service["spec"]!["ports"]!.AsArray().Single(p => (string?)p!["name"] == name)!;

    /// <summary>The backend container port a backend Service port forwards to.</summary>
    private static int ContainerPort(Manifests manifests, JsonNode servicePort)
    {
        var deployment = manifests.Single("Deployment", Backend);
        var container = Assert.Single(deployment["spec"]!["template"]!["spec"]!["containers"]!.AsArray())!;
        return ContainerPortNumber(container, servicePort["targetPort"]!, (string)servicePort["protocol"]!);
    }

    private static int ContainerPortNumber(JsonNode container, JsonNode target, string protocol)
    {
        var ports = container["ports"]!.AsArray().Select(p => p!)
            .Where(p => ((string?)p["protocol"] ?? "TCP") == protocol).ToList();
        var match = target.GetValueKind() == System.Text.Json.JsonValueKind.Number
            ? ports.Single(p => (int)p["containerPort"]! == (int)target)
            : ports.Single(p => (string?)p["name"] == (string)target!);
        return (int)match["containerPort"]!;
    }

    private static Dictionary<string, string?> Env(JsonNode container) =>
        container["env"]!.AsArray().ToDictionary(e => (string)e!["name"]!, e => (string?)e!["value"], StringComparer.Ordinal);
}
