namespace SpectralDiffusion.Worker.Distributed;

/// <summary>
/// A per-attempt key/value store with a blocking get, the part PyTorch's TCPStore plays in a rendezvous.
/// The orchestrator serves it over gRPC for real jobs; <see cref="FileRendezvous"/> serves it from a shared directory.
/// </summary>
public interface IRendezvous
{
    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing any earlier value atomically.</summary>
    Task PutAsync(string key, byte[] value, CancellationToken ct);

    /// <summary>Waits until <paramref name="key"/> has a value and returns it; throws <see cref="TimeoutException"/> naming the key after <paramref name="timeout"/>.</summary>
    Task<byte[]> GetAsync(string key, TimeSpan timeout, CancellationToken ct);
}
