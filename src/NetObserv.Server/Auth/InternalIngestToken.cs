using System.Security.Cryptography;

namespace NetObserv.Server.Auth;

/// <summary>
/// A random token made at start and never written anywhere, with push access to the default tenant: what the
/// in-process demo sends to the gRPC ingest listener when authentication is on.
/// </summary>
internal sealed class InternalIngestToken
{
    public string Value { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    /// <summary>The <c>authorization</c> metadata value carrying this token.</summary>
    public string Header => "Bearer " + Value;

    public bool Matches(string token) =>
        CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.UTF8.GetBytes(token), System.Text.Encoding.UTF8.GetBytes(Value));
}
