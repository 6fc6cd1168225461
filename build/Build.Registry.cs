using BuildGraph;
using Delivery.Aws;
using Delivery.Core;
using Delivery.Docker;
using Delivery.Hosts;

/// <summary>The build's own registry calls (everything but the engine's push and pull): credentials, release
/// lookup, promotion tags, ECR repositories, and the host's registry login.</summary>
partial class Build
{
    [Parameter("Push: create a missing ECR repository with immutable tags (the production tag then cannot move)")]
    readonly bool EcrImmutableTags;

    [Parameter("ConfigureHost: let the host's docker pull from --registry through docker-credential-<name> (e.g. ecr-login)")]
    readonly string? RegistryCredentialHelper;

    /// <summary>Credentials for a registry: ~/.docker/config.json (credHelpers, credsStore, auths), then
    /// --registry-username/--registry-password when it is --registry, and for an ECR registry with neither, a
    /// 12-hour token from the AWS credential chain (OIDC on CI, the instance role on EC2).</summary>
    async Task<RegistryAuth> RegistryLoginFor(string registry)
    {
        var sameRegistry = DockerConfigCredentials.NormalizeRegistry(registry) == DockerConfigCredentials.NormalizeRegistry(Registry);
        var auth = RegistryAuth.Resolve(registry, sameRegistry ? RegistryUsername : null, sameRegistry ? RegistryPassword : null);
        if (!auth.IsAnonymous || EcrRegistry.TryParse(registry) is not { } ecr) return auth;
        using var client = EcrClientFor(ecr);
        var login = await client.GetAuthorizationTokenAsync(CancellationToken);
        Log.RegisterSecret(login.Password);
        Log.Information($"Signed in to {ecr.Host} as {login.Username} with an ECR token (valid until {login.ExpiresAt:u})");
        return new RegistryAuth(login.Username, login.Password, registry);
    }

    Task<RegistryAuth> RegistryLogin() => RegistryLoginFor(Registry);

    // The same endpoint rules as SSM's: AWS_ENDPOINT_URL_ECR, then --aws-endpoint-url / AWS_ENDPOINT_URL.
    EcrClient EcrClientFor(EcrRegistry ecr) => new(AwsSettings.Resolve(ecr.Region, AwsCredentialChain.Default(), AwsEndpointUrl));

    /// <summary>Push to ECR: the repository must exist first (DescribeRepositories, then CreateRepository with scan
    /// on push; immutable tags with --ecr-immutable-tags).</summary>
    async Task EnsureEcrRepository()
    {
        if (EcrRegistry.TryParse(Registry) is not { } ecr) return;
        using var client = EcrClientFor(ecr);
        var (repository, created) = await client.EnsureRepositoryAsync(ecr.AccountId, ImageName, EcrImmutableTags, CancellationToken);
        Log.Information(created
            ? $"Created ECR repository {repository.Uri} (scan on push, {(repository.ImmutableTags ? "immutable" : "mutable")} tags)"
            : $"ECR repository {repository.Uri} exists ({(repository.ImmutableTags ? "immutable" : "mutable")} tags)");
    }

    /// <summary>--promote-version X.Y.Z: the digest the registry serves for the tag, through the registry API (no pull).</summary>
    async Task<PinnedImage> TaggedRelease(string version)
    {
        if (!Delivery.Versioning.SemanticVersion.TryParse(version, out _))
            throw new DeliveryException($"--release '{version}' is not a version (expected X.Y.Z)");
        using var client = new RegistryClient(Registry, await RegistryLogin());
        var digest = await client.GetDigestAsync(ImageName, version, CancellationToken)
                     ?? throw new DeliveryException($"Release {version} does not exist: {ImageRepository}:{version} is not in the registry ({client.Scheme})");
        Log.Information($"{ImageRepository}:{version} is {digest} ({client.Scheme})");
        return new PinnedImage(version, ImageRepository, digest);
    }

    /// <summary>After a production deploy: the deployed manifest gets the tags production and release-&lt;version&gt;
    /// (the same bytes, so the same digest; on ECR through BatchGetImage and PutImage). No layer moves.</summary>
    async Task TagPromoted(PinnedImage release)
    {
        var tags = ImageTags.Promotion(release.Version);
        try
        {
            await AddTags(release.Repository, release.Digest, tags);
        }
        catch (DeliveryException e)
        {
            throw new DeliveryException($"Production runs {release.Version} ({release.ShortDigest}), but the tags {string.Join(", ", tags)} could not be added: {e.Message}");
        }
        Log.Information($"Tagged {release.Repository}@{release.Digest} as {string.Join(", ", tags)} (digest unchanged)");
    }

    /// <summary>Adds tags to an existing manifest (the same bytes, so the same digest; on ECR through BatchGetImage and PutImage).</summary>
    async Task AddTags(string repository, string digest, IReadOnlyList<string> tags)
    {
        var (registry, path) = SplitRepository(repository);
        if (EcrRegistry.TryParse(registry) is { } ecr)
        {
            using var ecrClient = EcrClientFor(ecr);
            await ecrClient.TagAsync(ecr.AccountId, path, digest, tags, CancellationToken);
        }
        else
        {
            using var client = new RegistryClient(registry, await RegistryLoginFor(registry));
            await client.TagAsync(path, digest, tags, CancellationToken);
        }
    }

    /// <summary>A deploy first checks the digest's provenance; a registry the hosts cannot pull from then stops it before
    /// any switch, with the fix (Deployer.CheckPullAsync, typed by RegistryFailure).</summary>
    async Task<T> DeployPulling<T>(DeployEnvironment environment, PinnedImage release, Func<Task<T>> deploy)
    {
        await VerifyProvenance(environment, release);
        return await deploy();
    }

    /// <summary>The login the hosts pull the release with: --registry-username and REGISTRY_PASSWORD when the release
    /// comes from --registry. Never for ECR, whose instances use the credential helper and their role.</summary>
    RegistryCredential? RegistryCredentialFor(PinnedImage release)
    {
        var registry = RegistryAccess.RegistryOf(release.Repository);
        if (!PasswordRegistry || DockerConfigCredentials.NormalizeRegistry(registry) != DockerConfigCredentials.NormalizeRegistry(Registry))
            return null;
        return new RegistryCredential(registry, RegistryUsername!, RegistryPassword!);
    }

    /// <summary>--registry is not ECR and the build has its user and password: the hosts pull with that login.</summary>
    bool PasswordRegistry =>
        EcrRegistry.TryParse(Registry) is null && !string.IsNullOrEmpty(RegistryUsername) && !string.IsNullOrEmpty(RegistryPassword);

    /// <summary>What the playbook needs to know of --registry: an ECR registry gets the credential helper (instance role).</summary>
    IReadOnlyDictionary<string, string> RegistryPlaybookVariables() =>
        EcrRegistry.TryParse(Registry) is not null && !UsesLocalRegistry
            ? new Dictionary<string, string> { ["webapp_ecr_registry"] = ImageReference.RegistryOf(Registry + "/x") }
            : new Dictionary<string, string>();

    /// <summary>ConfigureHost's registry step on a site whose docker is this build's own (this machine): logs it in
    /// to --registry (password on stdin only), or points it at a credential helper. Credentials the build found in the
    /// host's own docker config need nothing. A fleet's instances pull from ECR through the credential helper the
    /// playbook installs; a fleet's login to other registries is a step of its own.</summary>
    async Task LogHostInToRegistry(Delivery.Hosts.Sites.Site site)
    {
        if (UsesLocalRegistry || !site.SharesTheBuildsDocker) return;
        if (RegistryCredentialHelper is { Length: > 0 } helper)
        {
            await HostRegistryLogin.UseCredentialHelperAsync(Registry, helper, cancellationToken: CancellationToken);
            Log.Information($"The host's docker uses docker-credential-{helper} for {Registry}");
            return;
        }
        if (string.IsNullOrEmpty(RegistryPassword) && EcrRegistry.TryParse(Registry) is null) return;
        var auth = RegistryPassword is { Length: > 0 }
            ? new RegistryAuth(RegistryUsername, RegistryPassword, Registry)
            : await RegistryLogin();
        await HostRegistryLogin.LoginAsync(Registry, auth, cancellationToken: CancellationToken);
        Log.Information($"Logged the host's docker in to {Registry} as {auth.Username} (password through stdin)");
    }

    static (string Registry, string Path) SplitRepository(string repository)
    {
        var registry = ImageReference.RegistryOf(repository);
        return (registry, repository.StartsWith(registry + "/", StringComparison.Ordinal) ? repository[(registry.Length + 1)..] : repository);
    }
}
