using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Gateway.Transforms.VirtualServers;

/// <summary>A member's whole lists, every page: a virtual server answers with one page of all its members'.</summary>
internal static class MemberLists
{
    private const int MaxPages = 100;

    public static async ValueTask<IList<Tool>> ToolsAsync(McpClient client, CancellationToken cancellationToken) =>
        await AllPagesAsync<Tool, ListToolsResult>(c => client.ListToolsAsync(new ListToolsRequestParams { Cursor = c }, cancellationToken), r => r.Tools, r => r.NextCursor).ConfigureAwait(false);

    public static async ValueTask<IList<Prompt>> PromptsAsync(McpClient client, CancellationToken cancellationToken) =>
        await AllPagesAsync<Prompt, ListPromptsResult>(c => client.ListPromptsAsync(new ListPromptsRequestParams { Cursor = c }, cancellationToken), r => r.Prompts, r => r.NextCursor).ConfigureAwait(false);

    public static async ValueTask<IList<Resource>> ResourcesAsync(McpClient client, CancellationToken cancellationToken) =>
        await AllPagesAsync<Resource, ListResourcesResult>(c => client.ListResourcesAsync(new ListResourcesRequestParams { Cursor = c }, cancellationToken), r => r.Resources, r => r.NextCursor).ConfigureAwait(false);

    public static async ValueTask<IList<ResourceTemplate>> TemplatesAsync(McpClient client, CancellationToken cancellationToken) =>
        await AllPagesAsync<ResourceTemplate, ListResourceTemplatesResult>(c => client.ListResourceTemplatesAsync(new ListResourceTemplatesRequestParams { Cursor = c }, cancellationToken), r => r.ResourceTemplates, r => r.NextCursor).ConfigureAwait(false);

    private static async Task<IList<T>> AllPagesAsync<T, TResult>(Func<string?, ValueTask<TResult>> page, Func<TResult, IList<T>> items, Func<TResult, string?> next)
    {
        var all = new List<T>();
        string? cursor = null;
        for (var i = 0; i < MaxPages; i++)
        {
            var result = await page(cursor).ConfigureAwait(false);
            all.AddRange(items(result));
            if ((cursor = next(result)) is null)
            {
                break;
            }
        }

        return all;
    }
}
