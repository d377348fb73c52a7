using SpectralDiffusion.Benchmarks;

return BenchmarkRegistry.Run(args);
