using Delivery.Hosts;

namespace Delivery.Aws;

/// <summary>
/// An environment's registry login for its instances: the SecureString <c>/&lt;app&gt;/&lt;environment&gt;/registry-auth</c>
/// holding <c>user:password</c>, encrypted with the KMS key given (or the AWS managed key aws/ssm). The build writes
/// it before each deploy; each instance reads it with its instance role (<c>aws ssm get-parameter --with-decryption</c>,
/// registry.sh), so the password travels in no SendCommand text, log or command line. The instance role may read
/// exactly these parameters and decrypt only through SSM (iam/instance-role-policy.json). One parameter per
/// environment, so staging's instances can be kept from production's registry login.
/// </summary>
public sealed class RegistryCredentialParameters(SsmClient ssm, string app, string? keyId = null)
{
    public string Name(DeployEnvironment environment) => $"/{app}/{environment.Name}/registry-auth";

    public async Task<RegistryAccess> PutAsync(DeployEnvironment environment, RegistryCredential credential, CancellationToken cancellationToken = default)
    {
        credential.Validate();
        await ssm.PutParameterAsync(Name(environment), credential.Secret, "SecureString", overwrite: true, cancellationToken, keyId);
        return new RegistryAccess(credential.Registry, Name(environment), ssm.Region);
    }
}
