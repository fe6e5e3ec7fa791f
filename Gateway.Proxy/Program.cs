using Gateway.Proxy.Hosting;
using Gateway.Transforms.Configuration;

if (AuditVerifyCommand.IsRequested(args))
{
    return await AuditVerifyCommand.RunAsync(args, Console.Out).ConfigureAwait(false);
}

try
{
    await (await GatewayApplication.BuildAsync(args).ConfigureAwait(false)).RunAsync().ConfigureAwait(false);
    return 0;
}
catch (InvalidRoutesException ex)
{
    // The host (and its logging) never started; the routes problems are the whole message.
    await Console.Error.WriteLineAsync(ex.Message).ConfigureAwait(false);
    return 1;
}
