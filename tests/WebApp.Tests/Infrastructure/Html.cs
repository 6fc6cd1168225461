using AngleSharp.Dom;
using AngleSharp.Html.Parser;

namespace WebApp.Tests.Infrastructure;

internal static class Html
{
    public static async Task<IDocument> GetDocumentAsync(HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} returned {(int)response.StatusCode}: {body[..Math.Min(body.Length, 300)]}");
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        return new HtmlParser().ParseDocument(body);
    }
}
