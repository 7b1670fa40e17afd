namespace NetObserv.Server.Tests.Demo;

/// <summary>The demo tests run one after the other: each runs a whole server with continuous traffic.</summary>
[CollectionDefinition(Name)]
public sealed class DemoTestGroup
{
    public const string Name = "Demo";
}
