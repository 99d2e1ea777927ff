namespace PoolAI.Gateway.S3.Signing;

/// <summary>
/// A request whose signature checked out (a feature of its <see cref="HttpContext"/>): what its body must be checked
/// against (<see cref="Body.S3RequestBody"/>).
/// </summary>
/// <param name="KeyId">The API key's id.</param>
/// <param name="Claim">The signature's claim.</param>
/// <param name="SigningKey">The signing key of the claim's scope, for the chunk and trailer signatures of an aws-chunked body.</param>
/// <param name="PayloadHash">
/// The signed payload hash: 64 hex digits of the body's SHA-256, <see cref="SigV4.UnsignedPayload"/> (also for every
/// presigned URL), or one of the <c>STREAMING-…</c> modes.
/// </param>
public sealed record S3SignedRequest(string KeyId, SigV4Claim Claim, byte[] SigningKey, string PayloadHash);
