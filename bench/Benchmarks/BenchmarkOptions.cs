using System.Globalization;

namespace SpectralDiffusion.Benchmarks;

/// <summary>The `--name value` options every benchmark takes, with errors that name the option.</summary>
static class BenchmarkOptions
{
    public static string? Option(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        if (index < 0) return null;
        return index + 1 < args.Length ? args[index + 1] : throw new ArgumentException($"{name} needs a value");
    }

    public static int IntOption(string[] args, string name, int fallback, bool allowZero = false)
    {
        if (Option(args, name) is not { } text) return fallback;
        if (!int.TryParse(text, CultureInfo.InvariantCulture, out var value) || value < (allowZero ? 0 : 1))
            throw new ArgumentException($"{name} needs a {(allowZero ? "non-negative" : "positive")} integer, got '{text}'");
        return value;
    }

    /// <summary>The PostgreSQL server a benchmark makes its fresh database on: <c>--database</c>, else SD_BENCH_DATABASE or
    /// SD_TEST_DATABASE; null, after telling how to give one, when there is none.</summary>
    public static string? Database(string[] args, string benchmark)
    {
        var cluster = Option(args, "--database") ?? Environment.GetEnvironmentVariable("SD_BENCH_DATABASE") ?? Environment.GetEnvironmentVariable("SD_TEST_DATABASE");
        if (cluster is null)
            Console.Error.WriteLine($"{benchmark}: needs a PostgreSQL connection string: --database \"Host=...;Username=...\" or env SD_BENCH_DATABASE " +
                                    "(deploy/local/postgres.sh start prints one); a fresh database is created on that server and dropped after");
        return cluster;
    }
}
