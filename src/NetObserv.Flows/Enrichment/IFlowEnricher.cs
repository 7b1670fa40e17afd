namespace NetObserv.Flows.Enrichment;

/// <summary>
/// Fills the Kubernetes fields of a decoded flow (source and destination kind, namespace, name,
/// owner, node, zone, <c>K8S_FlowLayer</c>, <c>FlowDirection</c>). Called on the ingest hot path for
/// every record from the agent and IPFIX exporters; records that arrive enriched (Loki push) skip it.
/// Implementations must be thread-safe and must not block.
/// </summary>
public interface IFlowEnricher
{
    /// <summary>Enriches <paramref name="record"/> in place.</summary>
    void Enrich(FlowRecord record);
}
