using Microsoft.Extensions.Logging.Abstractions;
using NetObserv.Server.Auth;

namespace NetObserv.Server.Tests.Auth;

/// <summary>The tokens file: what it accepts, what it refuses (with the line), and reloading on change.</summary>
public sealed class TokenStoreTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), "netobserv-tokens-" + Guid.NewGuid().ToString("N") + ".yaml");

    public void Dispose() => File.Delete(_path);

    private TokenStore Store() =>
        new(new AuthOptions { TokensFile = _path }, TimeProvider.System, NullLogger<TokenStore>.Instance);

    [Fact]
    public void Poll_FileChanged_TakesNewTokensAndDropsOldOnes()
    {
        File.WriteAllText(_path, "tokens:\n  - token: first\n    tenants: [a]\n    access: [query]\n");
        var store = Store();
        Assert.NotNull(store.Find("first"));

        File.WriteAllText(_path, "tokens:\n  - token: second\n    tenants: [b, c]\n    access: [push]\n    namespaces: [shop]\n");
        Assert.True(store.Poll());

        Assert.Null(store.Find("first"));
        var grant = store.Find("second");
        Assert.NotNull(grant);
        Assert.Equal(["b", "c"], grant.Tenants);
        Assert.True(grant.CanPush);
        Assert.False(grant.CanQuery);
        Assert.Equal(["shop"], grant.Namespaces!);
    }

    [Fact]
    public void Poll_InvalidNewFile_KeepsTheTokensLoadedBefore()
    {
        File.WriteAllText(_path, "tokens:\n  - token: first\n    tenants: [a]\n    access: [query]\n");
        var store = Store();

        File.WriteAllText(_path, "tokens:\n  - token: second\n    access: [query]\n");

        Assert.False(store.Poll());
        Assert.NotNull(store.Find("first"));
        Assert.Null(store.Find("second"));
    }

    [Theory]
    [InlineData("tokens:\n  - tenants: [a]\n    access: [query]\n", "line 2: exactly one of 'token' and 'token_sha256'")]
    [InlineData("tokens:\n  - token: x\n    token_sha256: ab\n    tenants: [a]\n    access: [query]\n", "exactly one of")]
    [InlineData("tokens:\n  - token_sha256: abc\n    tenants: [a]\n    access: [query]\n", "64 hexadecimal digits")]
    [InlineData("tokens:\n  - token: x\n    tenants: []\n    access: [query]\n", "'tenants' must list at least one tenant")]
    [InlineData("tokens:\n  - token: x\n    tenants: [a|b]\n    access: [query]\n", "tenant 'a|b' is not a valid tenant ID")]
    [InlineData("tokens:\n  - token: x\n    tenants: [a]\n    access: [admin]\n", "access 'admin' is not query or push")]
    [InlineData("tokens:\n  - token: x\n    tenants: [a]\n    access: [query]\n    namespaces: []\n", "'namespaces' must list at least one")]
    [InlineData("tokens:\n  - token: x\n    tenants: [a]\n    access: [query]\n    role: admin\n", "line 5: unknown key 'role'")]
    [InlineData("tokens:\n  - token: x\n    tenants: [a]\n    access: [query]\n  - token: x\n    tenants: [b]\n    access: [push]\n", "the same token appears twice")]
    [InlineData("users: []\n", "a list 'tokens:'")]
    [InlineData("tokens: [\n", "not valid YAML")]
    public void Parse_InvalidFile_NamesTheProblem(string yaml, string expected)
    {
        var error = Assert.Throws<TokenFileException>(() => TokenFile.Parse(yaml, "tokens.yaml"));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Find_Sha256Entry_MatchesThePlainToken()
    {
        File.WriteAllText(_path,
            "tokens:\n  - token_sha256: 2BB80D537B1DA3E38BD30361AA855686BDE0EACD7162FEF6A25FE97BF527A25B\n    tenants: [a]\n    access: [query]\n");

        var store = Store();

        Assert.NotNull(store.Find("secret"));
        Assert.Null(store.Find("Secret"));
    }
}
