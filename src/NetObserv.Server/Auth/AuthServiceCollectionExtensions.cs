using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace NetObserv.Server.Auth;

/// <summary>Authentication registrations (section <c>Auth</c>) and its middleware.</summary>
internal static class AuthServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="AuthOptions"/> (every invalid setting reported at once) and, when authentication is
    /// on, the authenticator: the tokens file (<see cref="TokenStore"/>, reloaded in the background) and, in
    /// <c>kubernetes</c> mode, the Kubernetes reviews (<see cref="KubernetesReviewer"/>) after it.
    /// </summary>
    public static IServiceCollection AddCallerAuth(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(AuthOptions.Section, typeof(AuthOptions), errors);
        }

        services.AddSingleton(options);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<InternalIngestToken>();
        var tokens = !string.IsNullOrEmpty(options.TokensFile);
        if (tokens)
        {
            services.AddSingleton<TokenStore>();
            services.AddHostedService(sp => sp.GetRequiredService<TokenStore>());
        }

        if (options.Mode == AuthMode.Kubernetes)
        {
            // The tokens file, when set too, is tried first: flowlogs-pipeline pushes with one of its tokens.
            services.AddSingleton<KubernetesReviewer>();
            services.AddSingleton<ICallerAuthenticator>(sp => new ChainedAuthenticator(
                tokens ? sp.GetRequiredService<TokenStore>() : null, sp.GetRequiredService<KubernetesReviewer>()));
        }
        else if (tokens)
        {
            services.AddSingleton<ICallerAuthenticator>(sp => sp.GetRequiredService<TokenStore>());
        }

        return services;
    }

    private static readonly PathString s_collectorPath = new("/pbflow.Collector");

    /// <summary>True when callers must authenticate.</summary>
    public static bool IsOn(AuthOptions options) =>
        options.Mode == AuthMode.Kubernetes || !string.IsNullOrEmpty(options.TokensFile);

    /// <summary>
    /// Adds <see cref="CallerAuthMiddleware"/> when authentication is on. Resolves the authenticator now, so an
    /// invalid tokens file stops the start.
    /// </summary>
    public static IApplicationBuilder UseCallerAuth(this IApplicationBuilder app)
    {
        if (app.ApplicationServices.GetService<ICallerAuthenticator>() is not null)
        {
            app.UseWhen(context => context.Request.Path.StartsWithSegments(s_collectorPath, StringComparison.Ordinal),
                grpc => grpc.UseMiddleware<GrpcIngestAuthMiddleware>());
            app.UseMiddleware<CallerAuthMiddleware>();
        }

        return app;
    }
}
