using SpectralDiffusion.Shared.Rpc;

namespace SpectralDiffusion.Worker.Agent;

/// <summary>How a worker agent finds the orchestrator and what it offers. Each value comes from a flag or its environment variable.</summary>
public sealed record AgentOptions
{
    public static readonly TimeSpan DefaultRegistrationBackoffCap = TimeSpan.FromSeconds(30);
    public const int DefaultUnexpectedErrorRetries = 10;

    /// <summary>Orchestrator address (SD_ORCHESTRATOR); an active one and its standby as <c>a,b</c>.</summary>
    public string Orchestrator { get; init; } = OrchestratorAddress.Default;
    /// <summary>Registration token (SD_WORKER_TOKEN); never logged.</summary>
    public string Token { get; init; } = "";
    /// <summary>"cpu", "cuda" (device 0) or "cuda:N" (SD_WORKER_DEVICE); empty = CUDA device 0 when present, else CPU.</summary>
    public string Device { get; init; } = "";
    /// <summary>Unique name among live workers (SD_WORKER_NAME); default host-device.</summary>
    public string Name { get; init; } = "";
    /// <summary>Address peers reach this worker at for the TCP ring (SD_WORKER_ADDRESS).</summary>
    public string AdvertiseAddress { get; init; } = "127.0.0.1";
    /// <summary>Torch intra-op threads (SD_TORCH_THREADS); 0 = libtorch's default. A job's torch_threads wins.</summary>
    public int Threads { get; init; }
    /// <summary>Scratch folder for downloads, checkpoints and outputs (SD_WORKER_DIR); the file "alive" is touched on every heartbeat.</summary>
    public string WorkDirectory { get; init; } = ".local/worker";
    /// <summary>Folder that relative paths in job specs are resolved under (SD_DATA_ROOT); they may not climb out of it.</summary>
    public string DataRoot { get; init; } = ".";
    public Dictionary<string, string> Labels { get; init; } = new();
    /// <summary>
    /// Shared memory per rank, in MiB, for gradients all-reduced in place when every rank of an attempt runs on this
    /// machine (SD_SHM_REGISTERED_MB, default 64; 0 = always copy through the segment). A group takes W times this of /dev/shm.
    /// </summary>
    public int SharedMemoryRegisteredMiB { get; init; } = (int)(Distributed.TcpRingOptions.DefaultRegisteredBytes >> 20);
    /// <summary>Collective timeout: a dead peer is detected within this.</summary>
    public TimeSpan CollectiveTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public TimeSpan RegistrationBackoffCap { get; init; } = DefaultRegistrationBackoffCap;
    /// <summary>How long a running attempt waits for an unreachable orchestrator (restarting, or its database down) before it fails.</summary>
    public TimeSpan OrchestratorOutageLimit { get; init; } = OrchestratorOutage.DefaultLimit;
    /// <summary>
    /// How often in a row a call to the orchestrator (Register, the assignment stream, the heartbeat) is repeated after
    /// INTERNAL or UNKNOWN before the agent stops with an error (SD_ERROR_RETRIES). UNAVAILABLE (an outage) does not count.
    /// </summary>
    public int UnexpectedErrorRetries { get; init; } = DefaultUnexpectedErrorRetries;
    /// <summary>Ship the log lines of each attempt to the orchestrator's job logs (SD_SHIP_LOGS; default on).</summary>
    public bool ShipLogs { get; init; } = true;
    /// <summary>Exit after this many attempts (tests and the local pipeline); 0 = run until stopped.</summary>
    public int MaxAttempts { get; init; }

    public void Validate()
    {
        OrchestratorAddress.ParseList(Orchestrator, "--orchestrator / SD_ORCHESTRATOR");
        if (Threads < 0) throw new ArgumentException($"--threads must be >= 0 (got {Threads})");
        if (SharedMemoryRegisteredMiB is < 0 or > 1 << 20)
            throw new ArgumentException($"--shm-registered-mb must be between 0 (off) and {1 << 20} MiB (got {SharedMemoryRegisteredMiB})");
        if (UnexpectedErrorRetries < 0) throw new ArgumentException($"--error-retries must be >= 0 (got {UnexpectedErrorRetries})");
        if (OrchestratorOutageLimit <= TimeSpan.Zero) throw new ArgumentException($"--outage-limit must be positive (got {OrchestratorOutageLimit.TotalSeconds} s)");
        if (Device.Length > 0 && Device != "cpu" && Device != "cuda" && !(Device.StartsWith("cuda:") && int.TryParse(Device[5..], out var index) && index >= 0))
            throw new ArgumentException($"--device '{Device}' must be cpu, cuda or cuda:N");
    }
}
