using Grpc.Reflection.V1Alpha;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>
/// Server reflection (what grpcurl uses) finds every spectral.v1 service through the server bases the orchestrator
/// generates for itself, and serves each one's descriptor.
/// </summary>
public class ReflectionTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    static readonly string[] Services = ["spectral.v1.Jobs", "spectral.v1.Rendezvous", "spectral.v1.RunHistory", "spectral.v1.Sweeps", "spectral.v1.Workers"];

    [Fact]
    public async Task ServerReflection_NoCredentials_ListsAndDescribesEveryService()
    {
        using var call = new ServerReflection.ServerReflectionClient(fixture.Server.Anonymous).ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
        var listed = call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name).ToList();
        var described = new List<string>();
        foreach (var service in Services)
        {
            await call.RequestStream.WriteAsync(new ServerReflectionRequest { FileContainingSymbol = service });
            Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None));
            if (call.ResponseStream.Current.FileDescriptorResponse?.FileDescriptorProto.Count > 0) described.Add(service);
        }
        await call.RequestStream.CompleteAsync();

        Assert.Superset(Services.ToHashSet(), listed.ToHashSet());
        Assert.Equal(Services, described);
    }
}
