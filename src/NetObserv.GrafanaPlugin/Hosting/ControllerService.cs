using Grpc.Core;
using NetObserv.GrafanaPlugin.Protocol.Controller;

namespace NetObserv.GrafanaPlugin.Hosting;

/// <summary>
/// <c>plugin.GRPCController/Shutdown</c>: go-plugin's graceful stop. The answer goes out first, then the
/// host stops (in-flight calls finish within the host's shutdown time) and the process exits 0.
/// </summary>
internal sealed class ControllerService(IHostApplicationLifetime lifetime) : GRPCController.GRPCControllerBase
{
    public override Task<Empty> Shutdown(Empty request, ServerCallContext context)
    {
        context.GetHttpContext().Response.OnCompleted(() =>
        {
            lifetime.StopApplication();
            return Task.CompletedTask;
        });
        return Task.FromResult(new Empty());
    }
}
