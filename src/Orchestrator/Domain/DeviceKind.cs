namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>The kind of device a job's ranks run on; a job is scheduled only onto workers of its kind.</summary>
public enum DeviceKind
{
    Cpu = 1,
    Cuda = 2,
}
