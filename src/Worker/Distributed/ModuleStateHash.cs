using System.Security.Cryptography;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Distributed;

/// <summary>A SHA-256 over a module's named parameters and buffers, so that ranks can prove they hold the same teacher.</summary>
public static class ModuleStateHash
{
    /// <summary>Hashes, in order, each parameter then each buffer: its name, dtype, shape and raw bytes. Lowercase hex.</summary>
    public static string Compute(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var scope = NewDisposeScope();
        var named = module.named_parameters().Select(p => (Kind: "parameter", p.name, Tensor: (Tensor)p.parameter))
            .Concat(module.named_buffers().Select(b => (Kind: "buffer", b.name, Tensor: b.buffer)));
        foreach (var (kind, name, tensor) in named)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{kind} {name} {tensor.dtype} [{string.Join(",", tensor.shape)}]\n"));
            using var host = tensor.detach().cpu().contiguous();
            if (host.NumberOfElements > 0) hash.AppendData(host.bytes);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// Compares every rank's <paramref name="hash"/> with rank 0's and throws <see cref="ReplicaMismatchException"/> on every
    /// rank, naming the ranks that differ. <paramref name="device"/> is where the collective works (CPU for tcp, CUDA for nccl).
    /// </summary>
    public static void VerifyIdenticalAcrossRanks(ICollective collective, string hash, string what, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(collective);
        var digest = Convert.FromHexString(hash);
        if (digest.Length != 32) throw new ArgumentException($"'{hash}' is not a SHA-256 hex digest", nameof(hash));
        using var scope = NewDisposeScope();
        device ??= CPU;
        var rootDigest = tensor(digest.Select(b => (long)b).ToArray()).to(device);
        collective.Broadcast(rootDigest, root: 0);
        var differs = zeros(collective.WorldSize, dtype: ScalarType.Int64, device: device);
        if (!rootDigest.cpu().data<long>().ToArray().SequenceEqual(digest.Select(b => (long)b)))
            differs[collective.Rank] = 1;
        collective.AllReduceSum(differs);
        var ranks = differs.cpu().data<long>().ToArray().Select((flag, rank) => (flag, rank)).Where(x => x.flag != 0).Select(x => x.rank).ToList();
        if (ranks.Count > 0)
            throw new ReplicaMismatchException(
                $"{what} differs from rank 0's on rank{(ranks.Count > 1 ? "s" : "")} {string.Join(", ", ranks)} (this rank {collective.Rank} has SHA-256 {hash}); every rank must load the same file");
    }
}

/// <summary>Ranks hold different copies of what must be one model (e.g. the frozen teacher); the run is refused.</summary>
public sealed class ReplicaMismatchException(string message) : Exception(message);
