using NetObserv.Flows;
using NetObserv.Flows.LokiPush;
using NetObserv.Query.Access;

namespace NetObserv.Server.Auth;

/// <summary>
/// Checks a gRPC ingest call before its body is read. A bearer token in the <c>authorization</c> metadata must
/// be valid (else <c>UNAUTHENTICATED</c>) and grant push (else <c>PERMISSION_DENIED</c>); the records go to
/// its first tenant, or to the one <c>x-scope-orgid</c> names among its tenants. Without a token the call is
/// accepted when the listener verified a client certificate (mTLS) or <see cref="AuthOptions.GrpcRequireToken"/>
/// is false, into the default tenant; else <c>UNAUTHENTICATED</c>.
/// </summary>
internal sealed class GrpcIngestAuthMiddleware
{
    private readonly RequestDelegate _next;
    private readonly ICallerAuthenticator _authenticator;
    private readonly InternalIngestToken _internal;
    private readonly bool _requireToken;
    private readonly ILogger _logger;

    public GrpcIngestAuthMiddleware(RequestDelegate next, ICallerAuthenticator authenticator, InternalIngestToken internalToken,
        AuthOptions options, ILogger<GrpcIngestAuthMiddleware> logger)
    {
        _next = next;
        _authenticator = authenticator;
        _internal = internalToken;
        _requireToken = options.GrpcRequireToken;
        _logger = logger;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var header = context.Request.Headers.Authorization;
        if (header.Count == 0)
        {
            if (_requireToken && context.Connection.ClientCertificate is null)
            {
                await RefuseAsync(context, 16, "authentication required: send authorization: Bearer <token> metadata")
                    .ConfigureAwait(false);
                return;
            }

            await _next(context).ConfigureAwait(false);
            return;
        }

        if (CallerCredentials.Token(header) is not { } token)
        {
            await RefuseAsync(context, 16, "invalid token").ConfigureAwait(false);
            return;
        }

        if (_internal.Matches(token))
        {
            await _next(context).ConfigureAwait(false);
            return;
        }

        var result = await _authenticator.AuthenticateAsync(token, context.RequestAborted).ConfigureAwait(false);
        if (result.Unavailable is { } reason)
        {
            await RefuseAsync(context, 14, "cannot authenticate now: " + reason).ConfigureAwait(false);
            return;
        }

        if (result.Grant is not { } grant)
        {
            await RefuseAsync(context, 16, "invalid token").ConfigureAwait(false);
            return;
        }

        if (!grant.CanPush)
        {
            await RefuseAsync(context, 7, "this token has no push access").ConfigureAwait(false);
            return;
        }

        var named = FlowAccess.ParseTenants(context.Request.Headers[LokiPushTenant.Header].ToString());
        if (named.Length > 1 || (named.Length == 1 && !grant.Tenants.Contains(named[0], StringComparer.Ordinal)))
        {
            await RefuseAsync(context, 7, $"{LokiPushTenant.Header} must name one tenant granted to this token")
                .ConfigureAwait(false);
            return;
        }

        var tenant = named.Length == 1 ? named[0] : grant.Tenants[0];
        if (tenant != FlowRecord.DefaultTenant)
        {
            FlowAccess.Set(context, new FlowAccess([tenant], grant.Namespaces));
        }

        await _next(context).ConfigureAwait(false);
    }

    /// <summary>A trailers-only gRPC answer: HTTP 200 with the status in the headers, no message.</summary>
    private async Task RefuseAsync(HttpContext context, int status, string message)
    {
        AuthLog.Refused(_logger, context.Request.Method, context.Request.Path.Value ?? "", status, message);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = Uri.EscapeDataString(message);
        await context.Response.CompleteAsync().ConfigureAwait(false);
    }
}
