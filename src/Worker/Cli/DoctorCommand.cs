using System.CommandLine;
using SpectralDiffusion.Worker.Torch;
using TorchSharp;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker doctor</c>: checks that libtorch loads here, prints what the worker would use, and checks convolution gradients.</summary>
public static class DoctorCommand
{
    public static Command Create()
    {
        var command = new Command("doctor", "Check that TorchSharp loads on this machine and show the devices and threads it would use.");
        command.SetAction(_ =>
        {
            try
            {
                TorchRuntime.EnsureLoaded();
            }
            catch (TorchLoadException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            Console.WriteLine($"TorchSharp      {typeof(torch).Assembly.GetName().Version}");
            Console.WriteLine($"torch threads   {torch.get_num_threads()}");
            Console.WriteLine($"CUDA available  {torch.cuda.is_available()}");
            Console.WriteLine($"CUDA devices    {(torch.cuda.is_available() ? torch.cuda.device_count() : 0)}");
            Console.WriteLine($"CPU             {CpuDescription.Describe()}");
            var check = ConvolutionSelfCheck.Run();
            Console.WriteLine($"conv backward   plain: {check.PlainNonFinite} of {check.Repeats} non-finite, aligned: {check.AlignedNonFinite} of {check.Repeats} " +
                              (check.PlainNonFinite > 0 ? "(this CPU's oneDNN has the padding fault; every model convolution is aligned around it)" : "(no fault seen here)"));
            return check.AlignedNonFinite == 0 ? 0 : 1;
        });
        return command;
    }
}
