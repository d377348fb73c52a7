namespace SpectralDiffusion.Benchmarks;

/// <summary>Every benchmark by name. Each prints ratios measured within one run, never absolute pass/fail thresholds.</summary>
public static class BenchmarkRegistry
{
    static readonly Dictionary<string, (string Description, Func<string[], int> Run)> Benchmarks = new()
    {
        // name = (description, entry point); one file per benchmark beside this one.
        ["forward-throughput"] = ("UNet denoiser evaluations/s: tiny teacher, Lite and SD; lite-ldm-ffhq vs sd-ffhq (SD/Lite ratio)", ForwardThroughputBenchmark.Run),
        ["peer-distill-step"] = ("one tiny-sd distillation step, TorchSharp vs the same networks and loss in PyTorch 1.13 (ratio TorchSharp/PyTorch)", PeerDistillStepBenchmark.Run),
        ["conv-alignment"] = ("forward+backward of tiny-ldm and tiny-sd with oneDNN's padding fault routed around vs not (time ratio; non-finite gradient counts)",
            ConvolutionAlignmentBenchmark.Run),
        ["first-stage"] = ("first-stage encoder images/s at 256x256, TorchSharp vs PyTorch on the same weights (ratio); training-epoch speed-up from the latent cache",
            FirstStageBenchmark.Run),
        ["training-memory"] = ("resident memory over thousands of tiny distillation steps (RSS last/first ratio)", TrainingMemoryBenchmark.Run),
        ["allreduce"] = ("CPU all-reduce busbw, ranks as processes: shared memory vs TCP ring vs PyTorch gloo vs memcpy (1-256 MB); gradient sync overlap off/on", AllReduceBenchmark.Run),
        ["orchestrator"] = ("submits/s, time to gang-assign 100 workers, heartbeats/s (needs PostgreSQL: --database or SD_BENCH_DATABASE)",
            OrchestratorThroughputBenchmark.Run),
        ["orchestrator-scale"] = ("10,000 fake workers and 2,000 gang jobs on one orchestrator process: time to full assignment, heartbeat p50/p99, " +
                                  "wrongful lease expiries, memory (needs PostgreSQL)", OrchestratorScaleBenchmark.Run),
        ["download"] = ("a 1 GiB artifact through `orchestrator download` vs cp and dd of the same file (MB/s, ratio), peak RSS of the CLI and the server (needs PostgreSQL)",
            DownloadBenchmark.Run),
    };

    public static int Run(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" || !Benchmarks.TryGetValue(args[0], out var benchmark))
        {
            if (args.Length > 0 && args[0] is not ("-h" or "--help"))
                Console.Error.WriteLine($"unknown benchmark '{args[0]}'");
            Console.WriteLine("usage: benchmarks NAME [options]\n\nbenchmarks:");
            foreach (var (name, (description, _)) in Benchmarks.OrderBy(b => b.Key))
                Console.WriteLine($"  {name,-24} {description}");
            return args.Length == 0 || args[0] is "-h" or "--help" ? 0 : 2;
        }
        return benchmark.Run(args[1..]);
    }
}
