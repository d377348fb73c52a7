namespace SpectralDiffusion.Orchestrator.Tests.Cli;

/// <summary>Captures what a CLI verb prints to stdout. Console.Out is process-wide, so the tests that capture it share
/// one xunit collection and never run at the same time.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ConsoleOutput
{
    public const string Name = "console output";

    public static async Task<(int ExitCode, string Output)> CaptureAsync(Func<Task<int>> action)
    {
        var original = Console.Out;
        var captured = new StringWriter();
        Console.SetOut(captured);
        try { return (await action(), captured.ToString()); }
        finally { Console.SetOut(original); }
    }
}
