using NetObserv.Server.Commands;

return await CommandRunner.RunAsync(args).ConfigureAwait(false);
