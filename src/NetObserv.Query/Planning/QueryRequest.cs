using NetObserv.Query.Access;

namespace NetObserv.Query.Planning;

/// <summary>
/// A query over [<see cref="StartNs"/>, <see cref="EndNs"/>] (Unix nanoseconds). Instant queries have
/// <see cref="StartNs"/> = <see cref="EndNs"/>. <see cref="Access"/> holds the tenants and namespaces it may read.
/// </summary>
internal sealed record QueryRequest(string Query, long StartNs, long EndNs, long StepMs, int Limit, bool Forward,
    bool Instant, FlowAccess Access);
