using Gateway.Proxy.Hosting;
using Gateway.Transforms.Configuration;

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
