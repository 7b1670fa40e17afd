using NetObserv.Flows.Enrichment;
using NetObserv.Server.Commands;
using NetObserv.Server.Loadgen;
using NetObserv.Storage;

namespace NetObserv.Server.Demo;

/// <summary>Registers the demo (<c>serve --demo</c>) when <c>Demo:Enabled</c> is set.</summary>
internal static class DemoHosting
{
    /// <summary>
    /// With <c>Demo:Enabled</c>: builds the synthetic cluster, writes its inventory to
    /// <c>&lt;data dir&gt;/demo/inventory.yaml</c> and makes it the enrichment inventory (unless
    /// <c>Enrichment:InventoryFile</c> is already set), and registers <see cref="DemoService"/>. Call before
    /// enrichment is registered. Invalid demo settings stop the start with every error.
    /// </summary>
    /// <exception cref="CommandLineException">The demo settings are invalid.</exception>
    public static void AddNetObservDemo(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Configuration.GetSection(DemoOptions.Section).Get<DemoOptions>() ?? new DemoOptions();
        if (!options.Enabled)
        {
            return;
        }

        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new CommandLineException(string.Join(" ", errors));
        }

        var cluster = SyntheticCluster.Create(options.Seed, options.Nodes);
        var inventoryKey = EnrichmentOptions.Section + ":" + nameof(EnrichmentOptions.InventoryFile);
        if (string.IsNullOrEmpty(builder.Configuration[inventoryKey]))
        {
            var storage = builder.Configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
            var path = Path.GetFullPath(Path.Combine(storage.DataDirectory, "demo", "inventory.yaml"));
            DemoInventory.Write(cluster, path);
            builder.Configuration.AddInMemoryCollection([new KeyValuePair<string, string?>(inventoryKey, path)]);
        }

        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(cluster);
        builder.Services.AddSingleton<DemoService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<DemoService>());
    }
}
