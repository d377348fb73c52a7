using System.CommandLine;
using SpectralDiffusion.Worker.Cli;

// SIGINT/SIGTERM cancel the running verb's token; a training step in flight finishes (up to 2 minutes) before exit.
return WorkerCli.Build().Parse(args).Invoke(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromMinutes(2) });
