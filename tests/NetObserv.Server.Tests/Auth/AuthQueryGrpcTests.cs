using Grpc.Core;
using Grpc.Net.Client;
using NetObserv.Query.Grpc.V1;
using NetObserv.Server.Tests.Loki;
using NetObserv.Testing;

namespace NetObserv.Server.Tests.Auth;

/// <summary>
/// The gRPC query API under the tokens file: a call without or with a wrong token is UNAUTHENTICATED, a
/// push-only token is PERMISSION_DENIED, a tenant outside the token is PERMISSION_DENIED, and a
/// namespace-restricted token sees only its namespace.
/// </summary>
public sealed class AuthQueryGrpcTests(AuthServerFixture fixture) : IClassFixture<AuthServerFixture>, IDisposable
{
    private readonly GrpcChannel _channel = GrpcChannel.ForAddress($"http://127.0.0.1:{fixture.Server.QueryGrpcPort}");

    public void Dispose() => _channel.Dispose();

    private static TimeRange Range => new()
    {
        StartUnixNano = (QueryTestFlows.OriginMs - 60_000) * 1_000_000,
        EndUnixNano = (QueryTestFlows.OriginMs + (40 * 60_000)) * 1_000_000,
    };

    private async Task<LabelValuesResponse> ValuesAsync(string? token, string? tenant = null)
    {
        var headers = new Metadata();
        if (token is not null)
        {
            headers.Add("authorization", "Bearer " + token);
        }

        if (tenant is not null)
        {
            headers.Add("x-scope-orgid", tenant);
        }

        var client = new QueryService.QueryServiceClient(_channel);
        return await client.LabelValuesAsync(new LabelValuesRequest { Name = "SrcK8S_OwnerName", Range = Range }, headers)
            .ResponseAsync.DefaultTimeout();
    }

    [Theory]
    [InlineData(null, null, StatusCode.Unauthenticated)]
    [InlineData("wrong-token", null, StatusCode.Unauthenticated)]
    [InlineData(AuthServerFixture.PushToken, null, StatusCode.PermissionDenied)]
    [InlineData(AuthServerFixture.BothToken, "other", StatusCode.PermissionDenied)]
    public async Task LabelValues_WithoutTheRightToken_Refused(string? token, string? tenant, StatusCode expected)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() => ValuesAsync(token, tenant));

        Assert.Equal(expected, error.StatusCode);
    }

    [Fact]
    public async Task LabelValues_QueryTokenAndNamespaceToken_SeeTheirFlows()
    {
        var all = await ValuesAsync(AuthServerFixture.QueryToken);
        var restricted = await ValuesAsync(AuthServerFixture.NamespaceToken);

        var expectedAll = fixture.Flows.Where(f => f.Tenant == "default" && f.SrcOwner is not null)
            .Select(f => f.SrcOwner!).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedAll, all.Values.Order(StringComparer.Ordinal).ToList());
        Assert.True(expectedAll.Count > 1);
        var expectedRestricted = fixture.Flows.Where(f => f.Tenant == "default" && f.SrcOwner is not null
                && (f.SrcNamespace == AuthServerFixture.RestrictedNamespace || f.DstNamespace == AuthServerFixture.RestrictedNamespace))
            .Select(f => f.SrcOwner!).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expectedRestricted, restricted.Values.Order(StringComparer.Ordinal).ToList());

        // The flow table: every row the restricted token reads is from or to its namespace, and it reads fewer.
        var allRows = await FlowsAsync(AuthServerFixture.QueryToken);
        var restrictedRows = await FlowsAsync(AuthServerFixture.NamespaceToken);
        Assert.NotEmpty(restrictedRows);
        Assert.All(restrictedRows, r => Assert.True(r.SrcK8SNamespace == AuthServerFixture.RestrictedNamespace
            || r.DstK8SNamespace == AuthServerFixture.RestrictedNamespace));
        Assert.True(restrictedRows.Count < allRows.Count);
    }

    private async Task<List<FlowRow>> FlowsAsync(string token)
    {
        var client = new QueryService.QueryServiceClient(_channel);
        using var call = client.QueryFlows(new FlowsRequest { Range = Range, Limit = 5000 },
            new Metadata { { "authorization", "Bearer " + token } });
        var rows = new List<FlowRow>();
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            rows.Add(call.ResponseStream.Current);
        }

        return rows;
    }
}
