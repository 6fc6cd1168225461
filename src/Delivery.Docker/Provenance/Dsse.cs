using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Delivery.Core;

namespace Delivery.Docker;

/// <summary>
/// The build's signing key: ECDSA P-256, made on first use in the state folder (signing-key.pem, owner-only) with its
/// public half beside it (signing-key.pub.pem) for deploys to trust. Its id is the sha256 of the public key's
/// SubjectPublicKeyInfo, as hex.
/// </summary>
public sealed class SigningKey : IDisposable
{
    public const string PrivateFileName = "signing-key.pem";
    public const string PublicFileName = "signing-key.pub.pem";

    SigningKey(ECDsa key) => (Key, KeyId) = (key, KeyIdOf(key));

    public ECDsa Key { get; }
    public string KeyId { get; }

    public static string KeyIdOf(ECDsa key) => Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));

    /// <summary>Loads the key in <paramref name="directory"/>, creating it (and the public file) on first use.</summary>
    public static SigningKey LoadOrCreate(string directory)
    {
        var privatePath = Path.Combine(directory, PrivateFileName);
        var key = ECDsa.Create();
        if (File.Exists(privatePath))
        {
            try { key.ImportFromPem(File.ReadAllText(privatePath)); }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                key.Dispose();
                throw new DeliveryException($"Signing key {privatePath} is not a PEM private key: {e.Message}");
            }
        }
        else
        {
            Directory.CreateDirectory(directory);
            key.Dispose();
            key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var temp = privatePath + ".tmp";
            using (var file = new FileStream(temp, new FileStreamOptions
                   { Mode = FileMode.Create, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite }))
            using (var writer = new StreamWriter(file))
                writer.Write(key.ExportPkcs8PrivateKeyPem());
            File.Move(temp, privatePath, overwrite: true);
        }
        if (key.KeySize != 256) throw new DeliveryException($"Signing key {privatePath} is not a P-256 key");
        File.WriteAllText(Path.Combine(directory, PublicFileName), key.ExportSubjectPublicKeyInfoPem());
        return new SigningKey(key);
    }

    /// <summary>Public keys from PEM files (trusted keys for verifying), by key id.</summary>
    public static IReadOnlyDictionary<string, ECDsa> LoadPublicKeys(IEnumerable<string> pemFiles)
    {
        var keys = new Dictionary<string, ECDsa>(StringComparer.Ordinal);
        foreach (var file in pemFiles)
        {
            if (!File.Exists(file)) throw new DeliveryException($"Trusted key {file} does not exist");
            var key = ECDsa.Create();
            try { key.ImportFromPem(File.ReadAllText(file)); }
            catch (Exception e) when (e is ArgumentException or CryptographicException)
            {
                throw new DeliveryException($"Trusted key {file} is not a PEM public key: {e.Message}");
            }
            keys[KeyIdOf(key)] = key;
        }
        return keys;
    }

    public void Dispose() => Key.Dispose();
}

/// <summary>
/// A DSSE envelope (github.com/secure-systems-lab/dsse, protocol v1): the payload, its type, and signatures over
/// PAE(type, payload). Signatures are ECDSA P-256 with SHA-256 in DER, as sigstore and in-toto write them.
/// </summary>
public sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<(string KeyId, byte[] Signature)> Signatures)
{
    public const string MediaType = "application/vnd.dsse.envelope.v1+json";

    /// <summary>"DSSEv1 &lt;len&gt; &lt;type&gt; &lt;len&gt; &lt;payload&gt;", lengths in ASCII decimal bytes.</summary>
    public static byte[] PreAuthenticationEncoding(string payloadType, byte[] payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var head = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length} ");
        return [.. head, .. type, .. middle, .. payload];
    }

    public static DsseEnvelope Sign(string payloadType, byte[] payload, SigningKey key) =>
        new(payloadType, payload, [(key.KeyId, key.Key.SignData(PreAuthenticationEncoding(payloadType, payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence))]);

    public bool IsSignedBy(ECDsa key, byte[] signature) =>
        key.VerifyData(PreAuthenticationEncoding(PayloadType, Payload), signature, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);

    public byte[] ToJson() => Encoding.UTF8.GetBytes(new JsonObject
    {
        ["payloadType"] = PayloadType,
        ["payload"] = Convert.ToBase64String(Payload),
        ["signatures"] = new JsonArray(Signatures.Select(s => (JsonNode?)new JsonObject { ["keyid"] = s.KeyId, ["sig"] = Convert.ToBase64String(s.Signature) }).ToArray()),
    }.ToJsonString());

    /// <summary>Null when the bytes are not a DSSE envelope.</summary>
    public static DsseEnvelope? TryParse(byte[] json)
    {
        try
        {
            var root = JsonNode.Parse(json);
            if (root?["payloadType"]?.GetValue<string>() is not { } type || root["payload"]?.GetValue<string>() is not { } payload) return null;
            var signatures = (root["signatures"]?.AsArray() ?? [])
                .Select(s => (s?["keyid"]?.GetValue<string>() ?? "", Convert.FromBase64String(s?["sig"]?.GetValue<string>() ?? ""))).ToList();
            return new DsseEnvelope(type, Convert.FromBase64String(payload), signatures);
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or FormatException or InvalidOperationException)
        {
            return null;
        }
    }
}
