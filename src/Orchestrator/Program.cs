using System.CommandLine;
using SpectralDiffusion.Orchestrator.Cli;
using SpectralDiffusion.Orchestrator.Hosting;

// SIGINT/SIGTERM cancel the running verb's token; `serve` then stops the host within its shutdown timeout and exits 0.
// System.CommandLine's own 2 s would end the process with 143 mid-shutdown, so it waits a little longer than the host.
var termination = new InvocationConfiguration { ProcessTerminationTimeout = OrchestratorSetup.ShutdownTimeout + TimeSpan.FromSeconds(5) };
return await OrchestratorCli.Build().Parse(args).InvokeAsync(termination);
