using NetObserv.Query.Access;
using NetObserv.Query.Planning;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Query.Tests.Planning;

/// <summary>Query connections given the reader role read as that role and cannot write or change the schema.</summary>
public sealed class QueryDataSourceTests(QueryDataFixture data) : IClassFixture<QueryDataFixture>
{
    [Fact]
    public async Task Create_WithReaderRole_ReadsButCannotWrite()
    {
        await using var source = QueryDataSource.Create(data.Database.ConnectionString, new QueryOptions(), QueryDataSource.ReaderRole);
        await using var connection = await source.OpenConnectionAsync().AsTask().DefaultTimeout();

        await using var who = new NpgsqlCommand("SELECT current_user", connection);
        Assert.Equal(QueryDataSource.ReaderRole, (string?)await who.ExecuteScalarAsync().DefaultTimeout());
        await using var count = new NpgsqlCommand("SELECT count(*) FROM flows", connection);
        Assert.Equal((long)data.Records.Count, (long)(await count.ExecuteScalarAsync().DefaultTimeout())!);
        await using var delete = new NpgsqlCommand("DELETE FROM flow_rows", connection);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => delete.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
        await using var ddl = new NpgsqlCommand("CREATE TABLE reader_probe (x int)", connection);
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege,
            (await Assert.ThrowsAsync<PostgresException>(() => ddl.ExecuteNonQueryAsync())).SqlState);
    }

    [Fact]
    public async Task Engine_WithReaderRole_AnswersLikeTheOwner()
    {
        await using var source = QueryDataSource.Create(data.Database.ConnectionString, new QueryOptions(), QueryDataSource.ReaderRole);
        var reader = new QueryEngine(source, Microsoft.Extensions.Options.Options.Create(new QueryOptions()));
        var end = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 3_600_000) * 1_000_000;
        var request = new QueryRequest("sum(count_over_time({app=\"netobserv-flowcollector\"}[30d]))", end, end, 60_000, 100,
            false, true, new FlowAccess(["default", "other"]));

        var asReader = Assert.IsType<VectorResult>(await reader.ExecuteAsync(request, QueryEngine.Parse(request.Query),
            CancellationToken.None).DefaultTimeout());
        var asOwner = Assert.IsType<VectorResult>(await data.Engine().ExecuteAsync(request, QueryEngine.Parse(request.Query),
            CancellationToken.None).DefaultTimeout());

        Assert.Equal(asOwner.Samples.Select(s => s.Value), asReader.Samples.Select(s => s.Value));
        Assert.Equal((double)data.Records.Count, Assert.Single(asReader.Samples).Value);
    }
}
