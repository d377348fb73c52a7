using System.Diagnostics;

namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>
/// Real PyTorch for cross-check tests: the interpreter named by SD_PYTHON (default /usr/bin/python3, Debian's python3-torch).
/// Tests that need it use <see cref="PythonTorchFactAttribute"/> and are skipped, with the reason, where <c>import torch</c> fails.
/// </summary>
public static class PythonTorch
{
    static readonly Lazy<string?> MissingReason = new(FindMissingReason);

    public static string Interpreter => Environment.GetEnvironmentVariable("SD_PYTHON") is { Length: > 0 } path ? path : "/usr/bin/python3";

    /// <summary>Null when torch, torchvision and scipy import; otherwise why not.</summary>
    public static string? WhyUnavailable => MissingReason.Value;

    /// <summary>Runs a script with arguments and returns its stdout; a non-zero exit fails the test with the script's stderr.</summary>
    public static string Run(string scriptPath, params string[] arguments)
    {
        var (exitCode, output, error) = Execute([scriptPath, .. arguments]);
        if (exitCode != 0) throw new InvalidOperationException($"{Interpreter} {scriptPath} exited with {exitCode}:\n{error}");
        return output;
    }

    /// <summary>Runs an inline script given on stdin; a non-zero exit fails the test with the script's stderr.</summary>
    public static string RunInline(string script)
    {
        var scriptPath = Path.Combine(Path.GetTempPath(), $"sd-inline-{Guid.NewGuid():N}.py");
        File.WriteAllText(scriptPath, script);
        try { return Run(scriptPath); }
        finally { File.Delete(scriptPath); }
    }

    /// <summary>The path of a script under the test output's py/ folders (copied there by the test project).</summary>
    public static string Script(string relativePath) => Path.Combine(AppContext.BaseDirectory, relativePath);

    static string? FindMissingReason()
    {
        if (!File.Exists(Interpreter)) return $"{Interpreter} does not exist (set SD_PYTHON to a python with torch)";
        try
        {
            var (exitCode, _, error) = Execute(["-c", "import torch, torchvision, scipy"]);
            return exitCode == 0 ? null
                : $"{Interpreter} cannot import torch, torchvision and scipy (apt-get install python3-torch python3-torchvision python3-scipy): {error.Trim().Split('\n').LastOrDefault()}";
        }
        catch (Exception e)
        {
            return $"{Interpreter} could not be started: {e.Message}";
        }
    }

    static (int ExitCode, string Output, string Error) Execute(string[] arguments)
    {
        var start = new ProcessStartInfo(Interpreter) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output, error.Result);
    }
}

/// <summary>A fact that needs real PyTorch; skipped with the reason where <see cref="PythonTorch"/> is unavailable.</summary>
public sealed class PythonTorchFactAttribute : FactAttribute
{
    public PythonTorchFactAttribute()
    {
        if (PythonTorch.WhyUnavailable is { } reason) Skip = reason;
    }
}

/// <summary>A theory that needs real PyTorch; skipped with the reason where <see cref="PythonTorch"/> is unavailable.</summary>
public sealed class PythonTorchTheoryAttribute : TheoryAttribute
{
    public PythonTorchTheoryAttribute()
    {
        if (PythonTorch.WhyUnavailable is { } reason) Skip = reason;
    }
}
