using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NetObserv.Flows.Pipeline;

namespace NetObserv.Storage.Tests.Options;

/// <summary>The ingest channel's capacity follows the durability unless <c>Storage:ChannelCapacity</c> sets it.</summary>
public sealed class ChannelCapacityTests
{
    [Theory]
    [InlineData(null, null, 50_000)]
    [InlineData("journal", null, 50_000)]
    [InlineData("memory", null, 200_000)]
    [InlineData("Memory", null, 200_000)]
    [InlineData("journal", "200000", 200_000)]
    [InlineData("memory", "300", 300)]
    public void Channel_CapacityFromDurabilityOrSetting(string? durability, string? capacity, int expected)
    {
        using var services = Build(durability, capacity);

        Assert.Equal(expected, services.GetRequiredService<FlowChannel>().Capacity);
        Assert.Equal(expected, services.GetRequiredService<IOptions<StorageOptions>>().Value.ResolvedChannelCapacity);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-5")]
    public void Options_CapacityNotPositive_RefusedWithTheSettingsName(string capacity)
    {
        using var services = Build("journal", capacity);

        var error = Assert.Throws<OptionsValidationException>(
            () => services.GetRequiredService<IOptions<StorageOptions>>().Value);
        Assert.Contains("Storage:ChannelCapacity must be more than 0", error.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Build(string? durability, string? capacity)
    {
        var settings = new Dictionary<string, string?>();
        if (durability is not null)
        {
            settings["Storage:Durability"] = durability;
        }

        if (capacity is not null)
        {
            settings["Storage:ChannelCapacity"] = capacity;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddFlowStorage(configuration)
            .BuildServiceProvider();
    }
}
