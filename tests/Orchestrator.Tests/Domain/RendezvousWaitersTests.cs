using SpectralDiffusion.Orchestrator.Coordination;
using SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Tests.Domain;

public class RendezvousWaitersTests
{
    readonly RendezvousWaiters store = new();
    readonly Guid id = Guid.NewGuid();

    [Fact]
    public async Task GetAsync_PutArrivesWhileWaiting_ReturnsTheValue()
    {
        var waiting = store.GetAsync(id, "nccl", TimeSpan.FromSeconds(5), CancellationToken.None);

        store.Put(id, "nccl", [7, 7]);

        Assert.Equal([7, 7], await waiting);
    }

    [Fact]
    public async Task Put_SameKeyTwice_LaterValueWins()
    {
        store.Put(id, "k", [1]);
        store.Put(id, "k", [2]);

        Assert.Equal([2], await store.GetAsync(id, "k", TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task GetAsync_NoPut_DeadlineExceededNamingKey()
    {
        var error = await Assert.ThrowsAsync<OrchestratorException>(() => store.GetAsync(id, "rank-3-address", TimeSpan.FromMilliseconds(50), CancellationToken.None));

        Assert.Equal(OrchestratorErrorKind.DeadlineExceeded, error.Kind);
        Assert.Contains("rank-3-address", error.Message);
    }

    [Fact]
    public async Task Drop_WhileWaiting_AbortsTheGetAndForgetsNamespace()
    {
        var other = Guid.NewGuid();
        store.Put(other, "k", [1]);
        var waiting = store.GetAsync(id, "k", TimeSpan.FromSeconds(5), CancellationToken.None);

        store.Drop(id);

        var error = await Assert.ThrowsAsync<OrchestratorException>(() => waiting);
        Assert.Equal(OrchestratorErrorKind.Aborted, error.Kind);
        Assert.Equal(1, store.NamespaceCount);
    }
}
