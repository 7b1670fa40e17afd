using System.Collections;
using System.Net;
using System.Net.NetworkInformation;
using System.Text.Json.Nodes;
using NetObserv.Flows;
using NetObserv.Flows.Fields;
using NetObserv.Storage.Copy;
using NetObserv.Storage.Spill;
using NetObserv.Testing;
using Npgsql;

namespace NetObserv.Storage.Tests.Copy;

/// <summary>Every field of the field table, and the extra fields, through COPY, the flows view and the spill codec.</summary>
public sealed class FlowFieldsStorageTests : IAsyncLifetime
{
    private readonly PostgresDatabase _database = new();

    public Task InitializeAsync() => _database.InitializeAsync();

    public Task DisposeAsync() => _database.DisposeAsync();

    [Fact]
    public void CopyColumns_NameEveryFieldKeptInFlowRowsAndTheExtraFields()
    {
        var columns = FlowCopy.ColumnsAndFormat.Split(['(', ')', ',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        foreach (var field in FlowFields.All.Where(f => f.Storage == FlowFieldStorage.Row))
        {
            Assert.Contains(field.Column, columns);
        }

        Assert.Contains("extra_fields", columns);
    }

    [Fact]
    public void SpillCodec_FullSample_EveryFieldAndTheExtraFieldsRoundTrip()
    {
        List<FlowRecord> records = [FlowFieldSamples.Full(1_780_000_000_000), FlowFieldSamples.Full(1_780_000_000_001, "b", ipv6: true)];
        records[1].Tenant = "team-b";
        using var stream = new MemoryStream();
        SpillCodec.Encode(stream, records, 0, records.Count);
        var decoded = new List<FlowRecord>();
        SpillCodec.Decode(stream.ToArray(), 0, records.Count, decoded);

        for (var i = 0; i < records.Count; i++)
        {
            foreach (var field in FlowFields.All)
            {
                AssertSameValue(field.Get(records[i]), field.Get(decoded[i]), field.Name);
            }

            Assert.Equal(records[i].ExtraFields, decoded[i].ExtraFields);
            Assert.Equal(records[i].Tenant, decoded[i].Tenant);
        }
    }

    [Fact]
    public async Task Writer_FullSample_EveryFieldReadBackFromTheFlowsView()
    {
        var endMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60_000;
        List<FlowRecord> records = [FlowFieldSamples.Full(endMs, "every-v4"), FlowFieldSamples.Full(endMs + 1, "every-v6", ipv6: true)];
        await using (var host = await StorageHost.CreateAsync(_database.ConnectionString))
        {
            await host.WriteAllAsync(records);
        }

        var columns = string.Join(", ", FlowFields.All.Select(f => f.Column));
        await using var connection = new NpgsqlConnection(_database.ConnectionString);
        await connection.OpenAsync().DefaultTimeout();
        foreach (var expected in records)
        {
            await using var command = new NpgsqlCommand(
                $"SELECT {columns}, extra_fields::text FROM flows WHERE hash_id = $1", connection);
            command.Parameters.Add(new NpgsqlParameter { Value = expected.HashId });
            await using var reader = await command.ExecuteReaderAsync().DefaultTimeout();
            Assert.True(await reader.ReadAsync().DefaultTimeout(), expected.HashId);
            for (var i = 0; i < FlowFields.All.Count; i++)
            {
                var field = FlowFields.All[i];
                AssertSameValue(field.Get(expected), FromColumn(field, reader.GetValue(i)), field.Name);
            }

            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected.ExtraFields!), JsonNode.Parse(reader.GetString(FlowFields.All.Count))));
        }
    }

    /// <summary>A column's value in the form <see cref="FlowFieldSpec.Get"/> returns.</summary>
    private static object? FromColumn(FlowFieldSpec field, object value) => value is DBNull ? null : field.Type switch
    {
        FlowFieldType.EpochMilliseconds => new DateTimeOffset((DateTime)value).ToUnixTimeMilliseconds(),
        FlowFieldType.EpochSeconds => new DateTimeOffset((DateTime)value).ToUnixTimeSeconds(),
        FlowFieldType.WideNumber => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture),
        FlowFieldType.Number or FlowFieldType.TcpFlags => Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture),
        FlowFieldType.Mac => Mac((PhysicalAddress)value),
        FlowFieldType.Address => value as IPAddress ?? ((NpgsqlTypes.NpgsqlInet)value).Address,
        _ => value,
    };

    private static ulong Mac(PhysicalAddress address)
    {
        ulong mac = 0;
        foreach (var b in address.GetAddressBytes())
        {
            mac = (mac << 8) | b;
        }

        return mac;
    }

    private static void AssertSameValue(object? expected, object? actual, string name)
    {
        if (expected is IEnumerable list and not string)
        {
            Assert.Equal(list.Cast<object>(), Assert.IsAssignableFrom<IEnumerable>(actual).Cast<object>());
        }
        else
        {
            Assert.True(Equals(expected, actual), $"{name}: expected {expected}, got {actual}");
        }
    }
}
