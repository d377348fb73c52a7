namespace SpectralDiffusion.Orchestrator.Domain;

/// <summary>
/// A worker announcing itself: its unique name, node, device (as stored: <c>cpu</c>, <c>cuda</c>; see
/// <see cref="JobStates"/>) and index, the address its peers reach it at, labels and agent version.
/// </summary>
public sealed record WorkerRegistration(string Name, string Node, string Device, int DeviceIndex, string Address,
    IReadOnlyDictionary<string, string> Labels, string Version);
