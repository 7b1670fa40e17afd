using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace NetObserv.Server.Tests.Auth;

/// <summary>
/// A Kubernetes API server on 127.0.0.1 answering TokenReview, SubjectAccessReview and the namespace list
/// with the JSON the real API server returns, for a few users: each token maps to a user, each user to the
/// namespaces where it may <c>get pods</c> ("*": cluster-wide; <see cref="PushGrant"/>: it may write flows). Requests must carry the service account
/// token of the kubeconfig it writes. <see cref="Down"/> makes it drop every connection.
/// </summary>
internal sealed class FakeReviewApi : IAsyncDisposable
{
    public const string ServiceAccountToken = "backend-service-account-token";

    /// <summary>In a user's namespaces: it may also write flows (create loki.grafana.com/network "logs").</summary>
    public const string PushGrant = "+push";

    private readonly WebApplication _app;
    private readonly Dictionary<string, (string User, string[] Namespaces)> _users;
    private long _tokenReviews;

    public FakeReviewApi(Dictionary<string, (string User, string[] Namespaces)> users, string[] namespaces)
    {
        _users = users;
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _app = builder.Build();
        _app.Use(async (context, next) =>
        {
            if (Down)
            {
                context.Abort();
                return;
            }

            if (context.Request.Headers.Authorization != "Bearer " + ServiceAccountToken)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                await context.Response.WriteAsJsonAsync(Status(401, "Unauthorized"));
                return;
            }

            await next(context);
        });
        _app.MapPost("/apis/authentication.k8s.io/v1/tokenreviews", async context =>
        {
            Interlocked.Increment(ref _tokenReviews);
            var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            var token = (string)review["spec"]!["token"]!;
            review["metadata"] = new JsonObject { ["creationTimestamp"] = null };
            review["status"] = _users.TryGetValue(token, out var user)
                ? new JsonObject
                {
                    ["authenticated"] = true,
                    ["user"] = new JsonObject
                    {
                        ["username"] = user.User,
                        ["uid"] = "uid-" + user.User,
                        ["groups"] = new JsonArray("system:authenticated", "team-" + user.User),
                    },
                    ["audiences"] = new JsonArray("https://kubernetes.default.svc.cluster.local"),
                }
                : new JsonObject { ["user"] = new JsonObject(), ["error"] = "[invalid bearer token, token lookup failed]" };
            await Json(context, review);
        });
        _app.MapPost("/apis/authorization.k8s.io/v1/subjectaccessreviews", async context =>
        {
            var review = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
            var spec = review["spec"]!;
            var attributes = spec["resourceAttributes"]!;
            var ns = (string?)attributes["namespace"];
            var granted = _users.Values.FirstOrDefault(u => u.User == (string?)spec["user"]).Namespaces ?? [];
            var allowed = ((string?)attributes["verb"] == "get" && (string?)attributes["resource"] == "pods"
                    && (granted.Contains("*") || (ns is not null && granted.Contains(ns))))
                || ((string?)attributes["verb"] == "create" && (string?)attributes["group"] == "loki.grafana.com"
                    && (string?)attributes["resource"] == "network" && (string?)attributes["name"] == "logs"
                    && granted.Contains(PushGrant));
            review["metadata"] = new JsonObject { ["creationTimestamp"] = null };
            review["status"] = allowed
                ? new JsonObject { ["allowed"] = true, ["reason"] = $"RBAC: allowed by RoleBinding \"view/{ns}\" of ClusterRole \"view\" to User \"{spec["user"]}\"" }
                : new JsonObject { ["allowed"] = false };
            await Json(context, review);
        });
        _app.MapGet("/api/v1/namespaces", context => Json(context, new JsonObject
        {
            ["kind"] = "NamespaceList",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject { ["resourceVersion"] = "4242" },
            ["items"] = new JsonArray([.. namespaces.Select(n => (JsonNode)new JsonObject
            {
                ["metadata"] = new JsonObject { ["name"] = n, ["uid"] = "ns-" + n, ["resourceVersion"] = "1" },
                ["spec"] = new JsonObject { ["finalizers"] = new JsonArray("kubernetes") },
                ["status"] = new JsonObject { ["phase"] = "Active" },
            })]),
        }));
        _app.Start();
        Port = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First()).Port;
    }

    public int Port { get; }

    /// <summary>When true every connection is dropped, as if the API server were gone.</summary>
    public bool Down { get; set; }

    /// <summary>TokenReviews answered so far.</summary>
    public long TokenReviews => Interlocked.Read(ref _tokenReviews);

    public string WriteKubeconfig(string path) =>
        Enrichment.FakeKubernetesApi.WriteKubeconfig(path, Port, ServiceAccountToken);

    private static JsonObject Status(int code, string reason) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["status"] = "Failure",
        ["reason"] = reason,
        ["code"] = code,
    };

    private static Task Json(HttpContext context, JsonNode body)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(body.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
