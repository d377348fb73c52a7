using SpectralDiffusion.Orchestrator.Cli;

return await OrchestratorCli.Build().Parse(args).InvokeAsync();
