using SpectralDiffusion.Worker.Cli;

return WorkerCli.Build().Parse(args).Invoke();
