using System.Text.Json;
using Microsoft.AspNetCore.Http;
using NetObserv.Query.Loki;
using NetObserv.Query.Planning;

namespace NetObserv.Query.Tests.Loki;

/// <summary>Answers written within a byte cap: kept whole below 1 MiB, measured and streamed above, refused past the cap.</summary>
public sealed class QueryAnswerWriterTests
{
    private static MatrixResult Matrix(int points)
    {
        var values = new double?[points];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = i;
        }

        return new MatrixResult([new Series(LabelSet.Empty, values)],
            Enumerable.Range(0, points).Select(i => 1_700_000_000_000L + (i * 1000L)).ToArray());
    }

    private static async Task<(string Body, long? Length, CachedAnswer? Answer)> WriteAsync(QueryResult result, long maxBytes)
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;
        var answer = await QueryAnswerWriter.WriteAsync(context, result, maxBytes, 0, TimeSpan.Zero);
        return (System.Text.Encoding.UTF8.GetString(body.ToArray()), context.Response.ContentLength, answer);
    }

    [Theory]
    [InlineData(1_000, true)]
    [InlineData(100_000, false)]
    public async Task WriteAsync_UnderTheCap_TheWholeAnswer(int points, bool kept)
    {
        var (body, length, answer) = await WriteAsync(Matrix(points), 64 << 20);

        using var doc = JsonDocument.Parse(body);
        var values = doc.RootElement.GetProperty("data").GetProperty("result")[0].GetProperty("values");
        Assert.Equal(points, values.GetArrayLength());
        Assert.Equal(points - 1, int.Parse(values[points - 1][1].GetString()!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(points, doc.RootElement.GetProperty("data").GetProperty("stats").GetProperty("summary")
            .GetProperty("totalEntriesReturned").GetInt64());
        Assert.Equal(kept, answer is not null);
        Assert.Equal(kept ? body.Length : null, length);
    }

    [Fact]
    public async Task WriteAsync_OverTheCap_QueryExceptionAndNothingSent()
    {
        var context = new DefaultHttpContext();
        using var body = new MemoryStream();
        context.Response.Body = body;

        var error = await Assert.ThrowsAsync<QueryException>(() =>
            QueryAnswerWriter.WriteAsync(context, Matrix(100_000), 1_500_000, 0, TimeSpan.Zero));

        Assert.Contains("Query:MaxResponseBytes, 1,500,000 bytes", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, body.Length);
        Assert.False(context.Response.HasStarted);
    }
}
