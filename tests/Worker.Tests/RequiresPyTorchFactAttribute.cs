using System.Diagnostics;

namespace SpectralDiffusion.Worker.Tests;

/// <summary>A fact that is SKIPPED (not passed) when real PyTorch cannot be imported by $SD_PYTHON (default /usr/bin/python3).</summary>
public sealed class RequiresPyTorchFactAttribute : FactAttribute
{
    public static string Python { get; } = Environment.GetEnvironmentVariable("SD_PYTHON") ?? "/usr/bin/python3";

    static readonly Lazy<bool> Available = new(() =>
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(Python, "-c \"import torch\"") { RedirectStandardError = true, RedirectStandardOutput = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    });

    public RequiresPyTorchFactAttribute()
    {
        if (!Available.Value)
            Skip = $"PyTorch is not importable by {Python}: set SD_PYTHON or `apt-get install --no-install-recommends python3-torch`";
    }

    /// <summary>Runs a Python script on stdin; returns stderr when it fails.</summary>
    public static (int ExitCode, string Errors) Run(string script)
    {
        using var process = Process.Start(new ProcessStartInfo(Python, "-") { RedirectStandardInput = true, RedirectStandardError = true })!;
        process.StandardInput.Write(script);
        process.StandardInput.Close();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, errors);
    }
}
