using Google.Protobuf.Reflection;
using Grpc.Core;
using SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Shared.Tests.Contracts;

/// <summary>
/// Shared holds what both sides of the wire use: the messages and the client stubs. The server bases are the
/// orchestrator's own, so the worker (which references Shared) runs on the plain .NET runtime, without ASP.NET Core.
/// </summary>
public class ContractsAssemblyTests
{
    static readonly System.Reflection.Assembly Shared = typeof(JobSpec).Assembly;

    [Fact]
    public void SharedAssembly_EveryService_HasAClientStubAndNoServerBase()
    {
        // A generated service class: static, with the service's descriptor (the *Reflection classes hold file descriptors).
        var services = Shared.GetTypes().Where(t => t.IsAbstract && t.IsSealed && t.GetProperty("Descriptor")?.PropertyType == typeof(ServiceDescriptor)).ToList();

        Assert.Equal(["Jobs", "Rendezvous", "RunHistory", "Sweeps", "Workers"], services.Select(s => s.Name).Order());
        Assert.All(services, s => Assert.Contains(s.GetNestedTypes(), n => n.Name == s.Name + "Client"));
        Assert.DoesNotContain(Shared.GetTypes(), t => t.IsDefined(typeof(BindServiceMethodAttribute), inherit: false));
    }
}
