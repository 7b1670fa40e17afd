using NetObserv.Flows.LokiPush;
using NetObserv.Query.Access;
using NetObserv.Query.Grpc;
using NetObserv.Server.Ingest.LokiPush;

namespace NetObserv.Server.Auth;

/// <summary>
/// Authenticates every Loki API request and gRPC query API call (a refusal there reaches the client as
/// UNAUTHENTICATED, PERMISSION_DENIED or UNAVAILABLE), and <c>/metrics</c> with <see cref="AuthOptions.MetricsRequireToken"/>):
/// no or an unknown token is 401; a token without the access the endpoint needs (push for
/// <c>/loki/api/v1/push</c>, query for the rest) or an <c>X-Scope-OrgID</c> naming a tenant outside the
/// token's tenants is 403; an unavailable identity service is 503. The request then carries a
/// <see cref="FlowAccess"/>: the tenants it named (the token's first when none) and the token's namespaces.
/// <c>/ready</c> and <c>/healthz</c> stay open.
/// </summary>
internal sealed class CallerAuthMiddleware
{
    private const string LokiPrefix = "/loki/api/";

    private readonly RequestDelegate _next;
    private readonly ICallerAuthenticator _authenticator;
    private readonly bool _metricsRequireToken;
    private readonly ILogger _logger;

    public CallerAuthMiddleware(RequestDelegate next, ICallerAuthenticator authenticator, AuthOptions options,
        ILogger<CallerAuthMiddleware> logger)
    {
        _next = next;
        _authenticator = authenticator;
        _metricsRequireToken = options.MetricsRequireToken;
        _logger = logger;
    }

    private enum Need
    {
        None,
        Query,
        Push,
        Any,
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "";
        var need = path.StartsWith(LokiPrefix, StringComparison.Ordinal)
            ? (path == LokiPushEndpoints.Route ? Need.Push : Need.Query)
            : path.StartsWith(QueryGrpcServiceCollectionExtensions.ServicePath, StringComparison.Ordinal) ? Need.Query
            : path == "/metrics" && _metricsRequireToken ? Need.Any : Need.None;
        if (need == Need.None)
        {
            await _next(context).ConfigureAwait(false);
            return;
        }

        if (CallerCredentials.Token(context.Request.Headers.Authorization) is not { } token)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized,
                "authentication required: send Authorization: Bearer <token> (or Basic with the token as password)")
                .ConfigureAwait(false);
            return;
        }

        var result = await _authenticator.AuthenticateAsync(token, context.RequestAborted).ConfigureAwait(false);
        if (result.Unavailable is { } reason)
        {
            await RefuseAsync(context, StatusCodes.Status503ServiceUnavailable, "cannot authenticate now: " + reason)
                .ConfigureAwait(false);
            return;
        }

        if (result.Grant is not { } grant)
        {
            await RefuseAsync(context, StatusCodes.Status401Unauthorized, "invalid token").ConfigureAwait(false);
            return;
        }

        if ((need == Need.Push && !grant.CanPush) || (need == Need.Query && !grant.CanQuery))
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"this token has no {(need == Need.Push ? "push" : "query")} access").ConfigureAwait(false);
            return;
        }

        var named = FlowAccess.ParseTenants(context.Request.Headers[LokiPushTenant.Header].ToString());
        if (named.FirstOrDefault(t => !grant.Tenants.Contains(t, StringComparer.Ordinal)) is { } outside)
        {
            await RefuseAsync(context, StatusCodes.Status403Forbidden,
                $"tenant '{outside}' in {LokiPushTenant.Header} is not granted to this token").ConfigureAwait(false);
            return;
        }

        if (need == Need.Push && named.Length > 1)
        {
            await RefuseAsync(context, StatusCodes.Status400BadRequest,
                $"invalid tenant ID in {LokiPushTenant.Header}: a push names one tenant").ConfigureAwait(false);
            return;
        }

        var access = new FlowAccess(named.Length == 0 ? [grant.Tenants[0]] : named, grant.Namespaces);
        FlowAccess.Set(context, access);

        await _next(context).ConfigureAwait(false);
    }

    private async Task RefuseAsync(HttpContext context, int status, string message)
    {
        AuthLog.Refused(_logger, context.Request.Method, context.Request.Path.Value ?? "", status, message);
        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"netobserv\", Basic realm=\"netobserv\"";
        }

        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(message + "\n", context.RequestAborted).ConfigureAwait(false);
    }
}
