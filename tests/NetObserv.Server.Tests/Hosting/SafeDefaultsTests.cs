using System.Net;
using Microsoft.Extensions.Options;
using NetObserv.Server.Commands;
using NetObserv.Server.Hosting;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Hosting;

/// <summary>Loopback unless told otherwise, a warning when open beyond it, roles that mean one thing, settings checked at start.</summary>
public sealed class SafeDefaultsTests
{
    [Fact]
    public void ListenAddress_Default_IsLoopbackOnly()
    {
        var options = new ServerOptions();

        Assert.Equal("localhost", options.ListenAddress);
        Assert.True(options.IsLoopbackOnly);
        Assert.True(new ServerOptions { ListenAddress = "::1" }.IsLoopbackOnly);
        Assert.False(new ServerOptions { ListenAddress = "*" }.IsLoopbackOnly);
        Assert.False(new ServerOptions { ListenAddress = "10.0.0.1" }.IsLoopbackOnly);
    }

    [Fact]
    public async Task Ready_AllInterfacesWithoutAuth_SaysSo()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Server:ListenAddress"] = "*" });

        using var ready = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("without authentication", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_Loopback_HasNoWarning()
    {
        await using var server = await RunningServer.StartAsync();

        using var ready = await server.Http.GetAsync(new Uri("/ready", UriKind.Relative)).DefaultTimeout();

        Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RoleIngest_ServesNoQueries()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Server:Role"] = "ingest" });

        using var query = await server.Http.GetAsync(new Uri("/loki/api/v1/labels", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(HttpStatusCode.NotFound, query.StatusCode);
        Assert.NotEqual(0, server.GrpcPort);
    }

    [Fact]
    public async Task RoleQuery_OpensNoIngest()
    {
        await using var server = await RunningServer.StartAsync(new Dictionary<string, string?> { ["Server:Role"] = "Query" });

        using var push = await server.Http.PostAsync(new Uri("/loki/api/v1/push", UriKind.Relative),
            new StringContent("{\"streams\":[]}", System.Text.Encoding.UTF8, "application/json")).DefaultTimeout();
        using var labels = await server.Http.GetAsync(new Uri("/loki/api/v1/labels", UriKind.Relative)).DefaultTimeout();

        Assert.Equal(0, server.GrpcPort);
        Assert.Equal(0, server.IpfixPort);
        Assert.Equal(HttpStatusCode.NotFound, push.StatusCode);
        Assert.Equal(HttpStatusCode.OK, labels.StatusCode);
    }

    [Theory]
    [InlineData("Server:HttpPort", "70000", "Server:HttpPort must be between -1 and 65535")]
    [InlineData("Server:ListenAddress", "everywhere", "Server:ListenAddress must be localhost, an IP address or *")]
    [InlineData("Auth:ReloadInterval", "00:00:00", "Auth:ReloadInterval must be between")]
    public async Task Build_InvalidSetting_FailsWithOneLineNamingTheKey(string key, string value, string expected)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["Storage:ConnectionString"] = "Host=127.0.0.1;Port=1;Database=none",
            [key] = value,
        };

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() =>
            NetObservHost.BuildAsync(new ParsedCommandLine("serve", values, []), null, CancellationToken.None));

        Assert.Contains(error.Failures, f => f.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_BadRole_ExitsWithOneClearLine()
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        int exit;
        try
        {
            exit = await CommandRunner.RunAsync(["serve", "--role", "reader"]);
        }
        finally
        {
            Console.SetError(previous);
        }

        Assert.Equal(2, exit);
        var line = Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Server:Role", line, StringComparison.Ordinal);
    }
}
