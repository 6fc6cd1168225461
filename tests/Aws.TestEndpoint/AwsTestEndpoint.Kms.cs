using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using static Aws.TestEndpoint.RequestFields;

namespace Aws.TestEndpoint;

/// <summary>
/// The KMS side of Parameter Store's SecureString (README.md, "SecureString parameters"): the AWS managed key aws/ssm,
/// which every principal of the account may use through SSM, and customer managed keys a test creates, which a
/// principal may use only when its identity policy allows kms:Decrypt (reading) or kms:Encrypt (writing) on the key,
/// evaluated with the context SSM calls KMS in: <c>kms:ViaService</c> = <c>ssm.&lt;region&gt;.amazonaws.com</c> and the
/// encryption context <c>PARAMETER_ARN</c>.
/// </summary>
public sealed partial class AwsTestEndpoint
{
    public const string ManagedSsmKeyAlias = "alias/aws/ssm";

    readonly ConcurrentDictionary<string, string> customerKeys = new(StringComparer.Ordinal);
    readonly byte[] kmsSecret = RandomNumberGenerator.GetBytes(32);
    readonly string managedKeyId = Guid.NewGuid().ToString();

    /// <summary>A customer managed key (as CreateKey would make it); returns its ARN.</summary>
    public string CreateKmsKey()
    {
        var id = Guid.NewGuid().ToString();
        var arn = KeyArn(id);
        customerKeys[id] = arn;
        return arn;
    }

    string KeyArn(string id) => $"arn:aws:kms:{Region}:{Account}:key/{id}";

    /// <summary>The key a KeyId names (key id, key ARN, or alias/aws/ssm and its ARN); null when the account has none such.</summary>
    (string Arn, bool Managed)? ResolveKey(string? keyId)
    {
        if (keyId is null || keyId == ManagedSsmKeyAlias || keyId == $"arn:aws:kms:{Region}:{Account}:{ManagedSsmKeyAlias}" || keyId == managedKeyId || keyId == KeyArn(managedKeyId))
            return (KeyArn(managedKeyId), true);
        if (customerKeys.TryGetValue(keyId, out var arn)) return (arn, false);
        return customerKeys.Values.Contains(keyId) ? (keyId, false) : null;
    }

    /// <summary>What Value shows of a SecureString read without decryption: the ciphertext, base64, never the value.</summary>
    string Encrypt(string plaintext, string keyArn)
    {
        var nonce = RandomNumberGenerator.GetBytes(12);
        var data = Encoding.UTF8.GetBytes(plaintext);
        var cipher = new byte[data.Length];
        var tag = new byte[16];
        using (var aes = new AesGcm(kmsSecret, 16)) aes.Encrypt(nonce, data, cipher, tag, Encoding.UTF8.GetBytes(keyArn));
        return Convert.ToBase64String([.. nonce, .. tag, .. cipher]);
    }

    /// <summary>
    /// The KMS permission a Parameter Store request needs besides its ssm: action, or null: kms:Encrypt to put a
    /// SecureString under a customer managed key, kms:Decrypt to read one with WithDecryption. The AWS managed key
    /// needs none ("grants Decrypt permission to all IAM principals in the AWS account").
    /// </summary>
    IReadOnlyList<(string Action, IamResource Key, IReadOnlyDictionary<string, string> Context)> KmsUses(string operation, JsonElement request)
    {
        var uses = new List<(string, IamResource, IReadOnlyDictionary<string, string>)>();
        void Use(string action, string keyArn, string parameter) => uses.Add((action, new IamResource(keyArn), new Dictionary<string, string>
        {
            ["kms:ViaService"] = $"ssm.{Region}.amazonaws.com",
            ["kms:EncryptionContext:PARAMETER_ARN"] = $"arn:aws:ssm:{Region}:{Account}:parameter{(parameter.StartsWith('/') ? parameter : "/" + parameter)}",
        }));
        if (operation == "PutParameter")
        {
            if (Text(request, "Type") == "SecureString" && ResolveKey(Text(request, "KeyId")) is { Managed: false } key)
                Use("kms:Encrypt", key.Arn, Text(request, "Name") ?? "");
            return uses;
        }
        if (!(request.TryGetProperty("WithDecryption", out var d) && d.ValueKind == JsonValueKind.True)) return uses;
        var names = operation switch
        {
            "GetParameter" or "GetParameterHistory" => Text(request, "Name") is { } n ? [n] : [],
            "GetParameters" => Strings(request, "Names"),
            _ => [],
        };
        lock (parameters)
        {
            var stored = operation == "GetParametersByPath" && Text(request, "Path") is { } path
                ? parameters.Values.Select(v => v[^1]).Where(p => p.Name.StartsWith(path.EndsWith('/') ? path : path + "/", StringComparison.Ordinal)).ToList()
                : names.Where(parameters.ContainsKey).SelectMany(n => operation == "GetParameterHistory" ? parameters[n] : [parameters[n][^1]]).ToList();
            foreach (var p in stored.Where(p => p is { Type: "SecureString", KeyManaged: false }).DistinctBy(p => (p.Name, p.KeyArn)))
                Use("kms:Decrypt", p.KeyArn!, p.Name);
        }
        return uses;
    }
}
