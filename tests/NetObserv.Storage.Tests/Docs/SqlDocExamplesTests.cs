using System.Text.RegularExpressions;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Docs;

/// <summary>
/// Every <c>```sql</c> block of docs/sql.md runs as written against a migrated database holding flows
/// written by the backend's writer, in each storage mode. A block that only reads (it starts with
/// SELECT or WITH) runs as <c>netobserv_reader</c>, the role the document gives analysts, and must
/// return rows; any other block runs as the database owner. Each block runs in its own transaction,
/// rolled back, so the examples do not see each other's changes. A block whose first line is
/// <c>-- Native partitions only</c> is skipped with TimescaleDB.
/// </summary>
public sealed partial class SqlDocExamplesTests
{
    private const int Count = 2_000;
    private const string NativeOnly = "-- Native partitions only";

    // Fields without a column, as a push client sends them (see the extra_fields examples).
    private const string ExtraFields = """
        {"IPSecStatus":"success","XlatSrcAddr":"10.0.0.9","XlatSrcPort":8443,"DnsFlagsResponseCode":"NXDomain",
         "NetworkEvents":[{"Feature":"acl","Action":"allow","Namespace":"shop","Direction":"ingress"}],
         "Udns":["","primary-udn"]}
        """;

    [Fact]
    public async Task SqlBlocks_MigratedDatabaseWithFlows_EachRunsAndEachQueryReturnsRows()
    {
        var mode = PostgresTestMode.Current;
        var blocks = SqlBlocks(File.ReadAllText(DocPath()));
        Assert.True(blocks.Count >= 15, $"only {blocks.Count} sql blocks found in docs/sql.md");

        var cs = await PostgresServer.CreateDatabaseAsync("sqldoc").DefaultTimeout();
        try
        {
            await FillAsync(cs, mode);
            var ran = 0;
            foreach (var block in blocks)
            {
                if (mode != StorageMode.Native && block.StartsWith(NativeOnly, StringComparison.Ordinal))
                {
                    continue;
                }

                await RunAsync(cs, block);
                ran++;
            }

            Assert.Equal(blocks.Count - (mode == StorageMode.Native ? 0 : blocks.Count(b =>
                b.StartsWith(NativeOnly, StringComparison.Ordinal))), ran);
        }
        finally
        {
            await PostgresServer.DropDatabaseAsync(cs);
        }
    }

    [Fact]
    public void SqlBlocks_Markdown_ExtractsFencedSqlOnly()
    {
        var blocks = SqlBlocks("text\n```sql\nSELECT 1;\n```\n```sh\nls\n```\n```sql\nSELECT 2\nFROM t;\n```\n");

        Assert.Equal(["SELECT 1;\n", "SELECT 2\nFROM t;\n"], blocks);
    }

    /// <summary>The body of every <c>```sql</c> fence, in document order.</summary>
    private static List<string> SqlBlocks(string markdown) =>
        [.. SqlFence().Matches(markdown.ReplaceLineEndings("\n")).Select(m => m.Groups[1].Value)];

    [GeneratedRegex(@"^```sql\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex SqlFence();

    private static string DocPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var path = Path.Combine(dir.FullName, "docs", "sql.md");
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException("docs/sql.md not found above " + AppContext.BaseDirectory);
    }

    /// <summary>
    /// Flows of the last 40 minutes through the writer (with rollups), some with fields that have no
    /// column and destinations in 10.128.0.0/16, today's partition, and one refused record.
    /// </summary>
    private static async Task FillAsync(string cs, StorageMode mode)
    {
        await using var host = await StorageHost.CreateAsync(cs,
            timescaleDb: mode == StorageMode.TimescaleDb ? "on" : "off", flushInterval: TimeSpan.FromMilliseconds(200));
        Assert.Equal(mode, host.Database.Mode);
        var now = DateTimeOffset.UtcNow;
        var records = TestFlows.Generate(Count, seed: 31, baseMs: now.AddMinutes(-40).ToUnixTimeMilliseconds(),
            spanMinutes: 35);
        for (var i = 0; i < records.Count; i++)
        {
            if (i % 7 == 0)
            {
                records[i].ExtraFields = ExtraFields;
            }

            if (i % 10 == 0)
            {
                records[i].DstAddr = new System.Net.IPAddress([10, 128, (byte)(i % 256), 7]);
            }
        }

        if (mode == StorageMode.Native)
        {
            await host.Partitions.MaintainAsync(now, CancellationToken.None).DefaultTimeout();
        }

        await host.WriteAllAsync(records);

        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync().DefaultTimeout();
        await using var rejected = new NpgsqlCommand("""
            INSERT INTO flows_rejected (tenant, sqlstate, error, record)
            VALUES ('default', '54000', 'index row size exceeds btree version 4 maximum', '{"Bytes":1}')
            """, connection);
        await rejected.ExecuteNonQueryAsync().DefaultTimeout();
    }

    private static async Task RunAsync(string cs, string block)
    {
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync().DefaultTimeout();
        await using var transaction = await connection.BeginTransactionAsync().AsTask().DefaultTimeout();
        var query = IsQuery(block);
        try
        {
            if (query)
            {
                await using var role = new NpgsqlCommand("SET LOCAL ROLE netobserv_reader", connection, transaction);
                await role.ExecuteNonQueryAsync().DefaultTimeout();
            }

            await using var command = new NpgsqlCommand(block, connection, transaction);
            await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
            var rows = 0;
            while (await reader.ReadAsync().DefaultTimeout())
            {
                rows++;
            }

            Assert.True(!query || rows > 0, "no rows from:\n" + block);
        }
        catch (PostgresException e)
        {
            Assert.Fail($"{e.SqlState} {e.MessageText} from:\n{block}");
        }
        finally
        {
            await transaction.RollbackAsync().DefaultTimeout();
        }
    }

    /// <summary>True when the block's first statement, past comments, is a SELECT or WITH.</summary>
    private static bool IsQuery(string block)
    {
        var first = block.Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.Length > 0 && !l.StartsWith("--", StringComparison.Ordinal)) ?? "";
        return first.StartsWith("SELECT", StringComparison.OrdinalIgnoreCase)
            || first.StartsWith("WITH", StringComparison.OrdinalIgnoreCase);
    }
}
