using System.Security.Cryptography;
using System.Text;
using NetObserv.Server.Tests.Loki;

namespace NetObserv.Server.Tests.Auth;

/// <summary>
/// The query test flows of two tenants served with a tokens file: a query token for both tenants, a push-only
/// token, a query-and-push token and a query token restricted to namespace ns-a (given as its SHA-256).
/// </summary>
public sealed class AuthServerFixture() : QueryServerFixture(
    [.. QueryTestFlows.Generate(400, seed: 21), .. QueryTestFlows.Generate(100, seed: 22, tenant: "other")],
    new Dictionary<string, string?>
    {
        ["Auth:TokensFile"] = s_path,
        ["Storage:FlushInterval"] = "00:00:00.050",
    }), IDisposable
{
    public const string QueryToken = "query-token-1";
    public const string PushToken = "push-token-2";
    public const string BothToken = "both-token-3";
    public const string NamespaceToken = "ns-a-token-4";
    public const string RestrictedNamespace = "ns-a";

    private static readonly string s_path = Write();

    public static string TokensPath => s_path;

    public static string TokensYaml => $"""
        tokens:
          - token: {QueryToken}
            tenants: [default, other]
            access: [query]
          - token: {PushToken}
            name: pusher
            tenants: [team-push, team-push-2]
            access: [push]
          - token: {BothToken}
            tenants: [default]
            access: [query, push]
          - token_sha256: {Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(NamespaceToken)))}
            tenants: [default]
            access: [query]
            namespaces: [{RestrictedNamespace}]
        """;

    private static string Write()
    {
        var path = Path.Combine(Path.GetTempPath(), "netobserv-tokens-" + Guid.NewGuid().ToString("N") + ".yaml");
        File.WriteAllText(path, TokensYaml);
        return path;
    }

    public void Dispose() => File.Delete(s_path);
}
