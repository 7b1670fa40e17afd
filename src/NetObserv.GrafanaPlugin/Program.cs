using NetObserv.GrafanaPlugin.Hosting;

return await PluginHost.RunAsync(args).ConfigureAwait(false);
