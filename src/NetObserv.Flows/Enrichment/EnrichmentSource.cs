namespace NetObserv.Flows.Enrichment;

/// <summary>Where an <see cref="EnrichmentIndex"/> comes from; the cluster wins over the inventory.</summary>
public enum EnrichmentSource
{
    /// <summary>The Kubernetes informer (live cluster objects).</summary>
    Kubernetes,

    /// <summary>The static inventory file.</summary>
    Inventory,
}
