namespace NetObserv.Server.Tests.Loki;

/// <summary>Known flows of two tenants, default settings.</summary>
public sealed class QueryApiFixture() : QueryServerFixture(
    [.. QueryTestFlows.Generate(800, seed: 11), .. QueryTestFlows.Generate(100, seed: 12, tenant: "other")]);
