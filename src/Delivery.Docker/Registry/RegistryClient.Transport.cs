using System.Net;
using System.Net.Http.Headers;
using System.Security.Authentication;
using System.Text;
using System.Text.Json;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>How the registry client reaches a registry: the scheme (https, or http where the engine would use it),
/// and the auth the registry asks for (Basic, or a token per repository scope from the Bearer realm).</summary>
public sealed partial class RegistryClient
{
    /// <summary>Sends with the auth the registry asked for; a 401 with a fresh challenge (say, a wider scope) is
    /// answered once.</summary>
    async Task<HttpResponseMessage> SendAsync(string repository, string actions, Func<HttpRequestMessage> create, CancellationToken cancellationToken)
    {
        await EnsureBaseAsync(cancellationToken);
        for (var attempt = 0; ; attempt++)
        {
            using var request = create();
            await AuthorizeAsync(request, repository, actions, cancellationToken);
            var response = await SendRawAsync(request, cancellationToken);
            if (response.StatusCode != HttpStatusCode.Unauthorized) return response;
            var fresh = AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
            if (attempt == 0 && fresh is not null && (challenge is null || challenge.Scheme != fresh.Scheme || fresh.IsBearer))
            {
                challenge = fresh;
                tokens.Remove($"{repository}:{actions}");
                response.Dispose();
                continue;
            }
            response.Dispose();
            throw Unauthorized(repository);
        }
    }

    DeliveryException Unauthorized(string repository) => auth.IsAnonymous
        ? new($"Registry {Registry} ({Scheme}) needs credentials for repository {repository}: none were found (docker login {Registry}, a credential helper, or a username and password)")
        : new($"Registry {Registry} ({Scheme}) refused the credentials of {auth.Username} for repository {repository}");

    async Task AuthorizeAsync(HttpRequestMessage request, string repository, string actions, CancellationToken cancellationToken)
    {
        if (challenge is null) return;
        if (challenge.IsBasic)
        {
            if (!auth.IsAnonymous) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicValue());
            return;
        }
        if (challenge.IsBearer)
        {
            var scope = $"repository:{repository}:{actions}";
            if (!tokens.TryGetValue($"{repository}:{actions}", out var token))
                tokens[$"{repository}:{actions}"] = token = await FetchTokenAsync(challenge, scope, repository, cancellationToken);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    string BasicValue() => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}"));

    /// <summary>The Docker token flow: GET realm?service=…&amp;scope=… with the credentials as Basic (or none).</summary>
    async Task<string> FetchTokenAsync(AuthChallenge bearer, string scope, string repository, CancellationToken cancellationToken)
    {
        if (bearer.Realm is not { } realm || !Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || realmUri.Scheme is not ("https" or "http"))
            throw new DeliveryException($"Registry {Registry} ({Scheme}) asked for a token but named no usable realm ('{bearer.Realm}')");
        var query = new List<string>();
        if (bearer.Service is { } service) query.Add("service=" + Uri.EscapeDataString(service));
        query.Add("scope=" + Uri.EscapeDataString(scope));
        var separator = realm.Contains('?') ? "&" : "?";
        using var request = new HttpRequestMessage(HttpMethod.Get, realm + separator + string.Join("&", query));
        if (!auth.IsAnonymous) request.Headers.Authorization = new AuthenticationHeaderValue("Basic", BasicValue());
        RequestedScopes.Add(scope);

        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new DeliveryException($"Token realm {realmUri.GetLeftPart(UriPartial.Path)} of registry {Registry} is not reachable: {Reason(ex)}");
        }
        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
                throw auth.IsAnonymous
                    ? new DeliveryException($"Registry {Registry} ({Scheme}) needs credentials for repository {repository}: its token realm refused an anonymous token")
                    : new DeliveryException($"Registry {Registry} ({Scheme}) refused the credentials of {auth.Username} for repository {repository} (token realm answered {(int)response.StatusCode})");
            if (!response.IsSuccessStatusCode)
                throw new DeliveryException($"Token realm {realmUri.GetLeftPart(UriPartial.Path)} of registry {Registry} answered {(int)response.StatusCode} {response.ReasonPhrase}");
            try
            {
                using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
                foreach (var name in new[] { "token", "access_token" })
                    if (document.RootElement.TryGetProperty(name, out var value) && value.GetString() is { Length: > 0 } token)
                        return token;
            }
            catch (JsonException) { }
            throw new DeliveryException($"Token realm {realmUri.GetLeftPart(UriPartial.Path)} of registry {Registry} answered without a token");
        }
    }

    /// <summary>Chooses the scheme with a GET /v2/ (which also yields the auth challenge): https first, then plain
    /// http where the engine would use it, when the server does not speak TLS at all.</summary>
    async Task EnsureBaseAsync(CancellationToken cancellationToken)
    {
        if (baseUrl is not null) return;
        var https = $"https://{ApiHost}";
        try
        {
            await PingAsync(https, cancellationToken);
            return;
        }
        catch (HttpRequestException ex) when (trust.AllowsHttp && trust.LastRejection is null && IsTlsFailure(ex))
        {
            // A plain-HTTP registry on loopback (or an insecure one): as the engine does, fall back to http.
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(https, ex);
        }
        var http = $"http://{ApiHost}";
        try
        {
            await PingAsync(http, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(http, ex);
        }
    }

    /// <summary>Docker Hub's API lives on registry-1.docker.io, whatever name the image uses.</summary>
    string ApiHost => DockerConfigCredentials.NormalizeRegistry(Registry) == "index.docker.io" ? "registry-1.docker.io" : Registry;

    async Task PingAsync(string url, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync($"{url}/v2/", cancellationToken);
        baseUrl = url;
        if (response.StatusCode == HttpStatusCode.Unauthorized)
            challenge = AuthChallenge.Parse(response.Headers.WwwAuthenticate.ToString());
        else if (response.StatusCode != HttpStatusCode.OK)
            throw new DeliveryException($"{Registry} ({Scheme}) is not a registry: GET /v2/ answered {(int)response.StatusCode} {response.ReasonPhrase}");
    }

    DeliveryException Unreachable(string url, Exception ex)
    {
        if (trust.LastRejection is { } rejection && url.StartsWith("https", StringComparison.Ordinal))
            return new DeliveryException($"Registry {Registry} (https) {rejection}");
        return new DeliveryException($"Registry {Registry} is not reachable: {url}/v2/: {Reason(ex)}");
    }

    static bool IsTlsFailure(HttpRequestException ex) =>
        ex.InnerException is AuthenticationException || ex.HttpRequestError == HttpRequestError.SecureConnectionError;

    static string Reason(Exception ex)
    {
        if (ex is TaskCanceledException) return "no answer in time";
        var inner = ex;
        while (inner.InnerException is not null) inner = inner.InnerException;
        return inner.Message.TrimEnd('.');
    }

    async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await http.SendAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(baseUrl!, ex);
        }
    }
}
