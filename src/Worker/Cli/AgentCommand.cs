using System.CommandLine;
using SpectralDiffusion.Shared.Logging;
using SpectralDiffusion.Worker.Agent;
using SpectralDiffusion.Worker.Torch;

namespace SpectralDiffusion.Worker.Cli;

/// <summary><c>worker agent</c>: registers this device with the orchestrator and runs the ranks it is assigned.</summary>
public static class AgentCommand
{
    public static Command Create()
    {
        var orchestrator = new Option<string>("--orchestrator") { Description = "orchestrator address, or the active's and the standby's as a,b (env SD_ORCHESTRATOR)", DefaultValueFactory = _ => Env("SD_ORCHESTRATOR", "http://127.0.0.1:5080") };
        var token = new Option<string>("--token") { Description = "registration token (env SD_WORKER_TOKEN)", DefaultValueFactory = _ => Env("SD_WORKER_TOKEN", "") };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N; default CUDA device 0 when present, else cpu (env SD_WORKER_DEVICE)", DefaultValueFactory = _ => Env("SD_WORKER_DEVICE", "") };
        var name = new Option<string>("--name") { Description = "unique worker name (env SD_WORKER_NAME; default host-device)", DefaultValueFactory = _ => Env("SD_WORKER_NAME", "") };
        var address = new Option<string>("--advertise") { Description = "address peers reach this worker at for the TCP ring (env SD_WORKER_ADDRESS)", DefaultValueFactory = _ => Env("SD_WORKER_ADDRESS", "127.0.0.1") };
        var threads = new Option<int>("--threads") { Description = "torch intra-op threads; agents sharing a node should split its cores (env SD_TORCH_THREADS)", DefaultValueFactory = _ => int.TryParse(Env("SD_TORCH_THREADS", "0"), out var t) ? t : 0 };
        var workDirectory = new Option<string>("--work-dir") { Description = "scratch folder (env SD_WORKER_DIR)", DefaultValueFactory = _ => Env("SD_WORKER_DIR", ".local/worker") };
        var dataRoot = new Option<string>("--data-root") { Description = "folder that relative paths in job specs (datasets, weights) are read under (env SD_DATA_ROOT; default: the current folder)", DefaultValueFactory = _ => Env("SD_DATA_ROOT", ".") };
        var timeout = new Option<double>("--collective-timeout") { Description = "seconds before a silent peer fails an all-reduce", DefaultValueFactory = _ => 60 };
        var registered = new Option<int>("--shm-registered-mb") { Description = "MiB of shared memory per rank for in-place all-reduce when all ranks share this machine; 0 = off (env SD_SHM_REGISTERED_MB)", DefaultValueFactory = _ => int.TryParse(Env("SD_SHM_REGISTERED_MB", ""), out var mb) ? mb : new AgentOptions().SharedMemoryRegisteredMiB };
        var outageLimit = new Option<double>("--outage-limit") { Description = "seconds a running attempt waits for an unreachable orchestrator before it fails", DefaultValueFactory = _ => OrchestratorOutage.DefaultLimit.TotalSeconds };
        var errorRetries = new Option<int>("--error-retries") { Description = "times in a row a call to the orchestrator is repeated after INTERNAL or UNKNOWN before the agent stops (env SD_ERROR_RETRIES)", DefaultValueFactory = _ => int.TryParse(Env("SD_ERROR_RETRIES", ""), out var n) ? n : AgentOptions.DefaultUnexpectedErrorRetries };

        var shipLogs = new Option<bool>("--ship-logs") { Description = "send each attempt's log lines to the orchestrator's job logs (env SD_SHIP_LOGS=0 turns it off)", DefaultValueFactory = _ => Env("SD_SHIP_LOGS", "1") is not ("0" or "false") };

        var command = new Command("agent", "Register with the orchestrator, heartbeat, and run assigned ranks until stopped (SIGTERM finishes the current step and deregisters).");
        foreach (var option in new Option[] { orchestrator, token, device, name, address, threads, workDirectory, dataRoot, timeout, registered, outageLimit, errorRetries, shipLogs }) command.Options.Add(option);
        command.SetAction(async (parse, cancellation) =>
        {
            var options = new AgentOptions
            {
                Orchestrator = parse.GetValue(orchestrator)!, Token = parse.GetValue(token)!, Device = parse.GetValue(device)!,
                Name = parse.GetValue(name)!, AdvertiseAddress = parse.GetValue(address)!, Threads = parse.GetValue(threads),
                WorkDirectory = parse.GetValue(workDirectory)!, DataRoot = parse.GetValue(dataRoot)!, CollectiveTimeout = TimeSpan.FromSeconds(parse.GetValue(timeout)),
                OrchestratorOutageLimit = TimeSpan.FromSeconds(parse.GetValue(outageLimit)), SharedMemoryRegisteredMiB = parse.GetValue(registered),
                UnexpectedErrorRetries = parse.GetValue(errorRetries), ShipLogs = parse.GetValue(shipLogs),
            };
            var log = SerilogSetup.CreateLogger(SerilogSetup.DefaultConfiguration(), "worker");
            try
            {
                return await new WorkerAgent(options, log).RunAsync(cancellation);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or TorchLoadException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return command;
    }

    static string Env(string name, string fallback) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : fallback;
}
