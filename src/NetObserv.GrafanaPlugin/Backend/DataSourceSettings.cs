using System.Text.Json;
using Grpc.Core;
using NetObserv.GrafanaPlugin.Data;
using NetObserv.GrafanaPlugin.Protocol;

namespace NetObserv.GrafanaPlugin.Backend;

/// <summary>
/// What a configured data source tells the plugin: the backend's gRPC query API address (the data
/// source's <c>url</c>, <c>http://host:9090</c>), the bearer token (<c>secureJsonData.token</c>) and
/// the tenant (<c>jsonData.tenant</c>, sent as <c>x-scope-orgid</c>).
/// </summary>
internal sealed record DataSourceSettings(Uri Url, string? Token, string? Tenant)
{
    public const string TokenKey = "token";
    public const string TenantKey = "tenant";

    public static DataSourceSettings From(PluginContext? context)
    {
        var settings = context?.DataSourceInstanceSettings
            ?? throw new PluginQueryException(400, "the request carries no data source settings", ErrorSource.Plugin);
        if (!Uri.TryCreate(settings.Url?.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
        {
            throw new PluginQueryException(400,
                $"the data source URL \"{settings.Url}\" is not an http:// or https:// address of the backend's gRPC query API",
                ErrorSource.Plugin);
        }

        string? tenant = null;
        if (!settings.JsonData.IsEmpty)
        {
            try
            {
                using var json = JsonDocument.Parse(settings.JsonData.Memory);
                if (json.RootElement.ValueKind == JsonValueKind.Object
                    && json.RootElement.TryGetProperty(TenantKey, out var t) && t.ValueKind == JsonValueKind.String)
                {
                    tenant = t.GetString();
                }
            }
            catch (JsonException ex)
            {
                throw new PluginQueryException(400, "the data source's jsonData is not JSON: " + ex.Message, ErrorSource.Plugin);
            }
        }

        settings.DecryptedSecureJsonData.TryGetValue(TokenKey, out var token);
        return new DataSourceSettings(url, string.IsNullOrEmpty(token) ? null : token, string.IsNullOrWhiteSpace(tenant) ? null : tenant);
    }

    /// <summary>The metadata of every call to the backend.</summary>
    public Metadata Headers()
    {
        var headers = new Metadata();
        if (Token is not null)
        {
            headers.Add("authorization", "Bearer " + Token);
        }

        if (Tenant is not null)
        {
            headers.Add("x-scope-orgid", Tenant);
        }

        return headers;
    }
}
