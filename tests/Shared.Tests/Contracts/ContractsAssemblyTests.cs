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

        Assert.Equal(DeclaredServices(), services.Select(s => s.Name).Order());
        Assert.All(services, s => Assert.Contains(s.GetNestedTypes(), n => n.Name == s.Name + "Client"));
        Assert.DoesNotContain(Shared.GetTypes(), t => t.IsDefined(typeof(BindServiceMethodAttribute), inherit: false));
    }

    /// <summary>The services the repository's .proto files declare (<c>service Name {</c>), in name order.</summary>
    static IEnumerable<string> DeclaredServices()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Orchestrator.sln"))) directory = directory.Parent;
        Assert.NotNull(directory);
        return Directory.GetFiles(Path.Combine(directory.FullName, "proto"), "*.proto", SearchOption.AllDirectories)
            .SelectMany(File.ReadAllLines)
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, @"^service\s+(\w+)\s*\{"))
            .Where(match => match.Success)
            .Select(match => match.Groups[1].Value)
            .Order()
            .ToList();
    }
}
