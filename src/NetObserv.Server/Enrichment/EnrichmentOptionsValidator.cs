using Microsoft.Extensions.Options;
using NetObserv.Flows.Enrichment;

namespace NetObserv.Server.Enrichment;

/// <summary>Reports every <see cref="EnrichmentOptions"/> error at once, at start.</summary>
internal sealed class EnrichmentOptionsValidator : IValidateOptions<EnrichmentOptions>
{
    public ValidateOptionsResult Validate(string? name, EnrichmentOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
