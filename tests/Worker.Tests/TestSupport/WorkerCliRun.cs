using SpectralDiffusion.Worker.Cli;

namespace SpectralDiffusion.Worker.Tests.TestSupport;

/// <summary>Runs the worker CLI in-process with stderr captured: its exit code and what it wrote there.</summary>
public static class WorkerCliRun
{
    public static (int ExitCode, string Error) Invoke(params string[] args)
    {
        var error = new StringWriter();
        var previous = Console.Error;
        Console.SetError(error);
        try
        {
            return (WorkerCli.Build().Parse(args).Invoke(), error.ToString());
        }
        finally
        {
            Console.SetError(previous);
        }
    }
}
