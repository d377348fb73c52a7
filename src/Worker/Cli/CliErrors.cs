using SpectralDiffusion.Worker.Models;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary>Turns the errors a user can act on into one line on stderr and exit code 2 (never a stack trace).</summary>
public static class CliErrors
{
    public static int Run(Action action)
    {
        try
        {
            action();
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or CheckpointFormatException or StateDictMismatchException or TorchLoadException or IOException or InvalidDataException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
    }
}
