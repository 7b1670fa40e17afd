namespace NetObserv.Flows.LokiPush;

/// <summary>
/// Tenant IDs as Loki accepts them in <c>X-Scope-OrgID</c>: 1 to 150 characters among letters, digits and
/// <c>! - _ . * ' ( )</c>, and neither <c>.</c> nor <c>..</c>.
/// </summary>
public static class LokiPushTenant
{
    public const string Header = "X-Scope-OrgID";
    public const int MaxLength = 150;

    public static bool IsValid(string? tenant)
    {
        if (string.IsNullOrEmpty(tenant) || tenant.Length > MaxLength || tenant is "." or "..")
        {
            return false;
        }

        foreach (var c in tenant)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '!' or '-' or '_' or '.' or '*' or '\'' or '(' or ')'))
            {
                return false;
            }
        }

        return true;
    }
}
