using System.Security.Cryptography;
using SpectralDiffusion.Worker.Distributed;
using SpectralDiffusion.Worker.Models;
using static TorchSharp.torch;

namespace SpectralDiffusion.Worker.Jobs;

/// <summary>Refuses a distillation whose teacher differs between ranks: each compares its weights' SHA-256 with rank 0's.</summary>
public static class TeacherConsistency
{
    public static void Verify(ICollective collective, UNetModel teacher, string path)
    {
        var digest = StateHash(teacher);
        using var mine = tensor(digest.Select(b => (long)b).ToArray());
        using var reference = mine.clone();
        collective.Broadcast(reference, root: 0);
        using var mismatch = tensor(new long[] { mine.eq(reference).all().item<bool>() ? 0 : 1 });
        collective.AllReduceSum(mismatch);
        if (mismatch.item<long>() > 0)
            throw new InvalidDataException(
                $"the teacher differs across ranks ({mismatch.item<long>()} rank(s) disagree with rank 0; this rank loaded {path}, sha256 of weights {Convert.ToHexStringLower(digest)}); every rank must load the same teacher");
    }

    /// <summary>SHA-256 over every named tensor's name and bytes, in name order.</summary>
    public static byte[] StateHash(nn.Module module)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensor) in module.state_dict().OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(name));
            using var cpu = tensor.detach().cpu().contiguous();
            hash.AppendData(cpu.bytes);
        }
        return hash.GetHashAndReset();
    }
}
