namespace SpectralDiffusion.Worker.Torch;

/// <summary>The CPU a measurement ran on (benchmarks and the doctor print it: CPUs of one cloud instance type differ).</summary>
public static class CpuDescription
{
    /// <summary>"AMD EPYC 9R14 (2 logical CPUs, avx512f avx2)" from /proc/cpuinfo, or the processor count elsewhere.</summary>
    public static string Describe()
    {
        var logical = Environment.ProcessorCount;
        const string cpuinfo = "/proc/cpuinfo";
        if (!File.Exists(cpuinfo)) return $"{logical} logical CPUs";
        var lines = File.ReadLines(cpuinfo).ToList();
        var model = Field(lines, "model name") ?? "unknown CPU";
        var flags = (Field(lines, "flags") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        var isa = new[] { "avx512f", "avx512_bf16", "avx2", "sse4_1" }.Where(flags.Contains);
        return $"{model} ({logical} logical CPUs, {string.Join(" ", isa)})";
    }

    static string? Field(IEnumerable<string> lines, string name) => lines
        .Where(line => line.StartsWith(name, StringComparison.Ordinal) && line.Contains(':'))
        .Select(line => line[(line.IndexOf(':') + 1)..].Trim())
        .FirstOrDefault();
}
