namespace NetObserv.GrafanaPlugin.Tests;

/// <summary>One backend and one plugin process for every test class that talks to the plugin.</summary>
[CollectionDefinition(Name)]
public sealed class PluginTestGroup : ICollectionFixture<PluginFixture>
{
    public const string Name = "plugin";
}
