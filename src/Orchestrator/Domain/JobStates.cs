using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>Names of states, types and devices as stored in the database (<c>QUEUED</c>, <c>DISTILL</c>, <c>cuda</c>).</summary>
public static class JobStates
{
    public static string Name(JobState state) => state.ToString().ToUpperInvariant();
    public static JobState Parse(string name) => Enum.Parse<JobState>(name, ignoreCase: true);
    public static string Name(JobType type) => type.ToString().ToUpperInvariant();
    public static JobType ParseType(string name) => Enum.Parse<JobType>(name, ignoreCase: true);
    public static string Name(DeviceKind device) => device.ToString().ToLowerInvariant();
    public static DeviceKind ParseDevice(string name) => Enum.Parse<DeviceKind>(name, ignoreCase: true);
}
