using Grpc.Core;
using SpectralDiffusion.Shared.Rpc;

namespace SpectralDiffusion.Shared.Tests.Rpc;

public class FailoverInvokerTests
{
    static readonly Marshaller<string> Text = Marshallers.Create(s => System.Text.Encoding.UTF8.GetBytes(s), b => System.Text.Encoding.UTF8.GetString(b));
    static readonly Method<string, string> Unary = new(MethodType.Unary, "spectral.v1.Test", "Echo", Text, Text);
    static readonly Method<string, string> Stream = new(MethodType.ServerStreaming, "spectral.v1.Test", "Watch", Text, Text);

    [Fact]
    public async Task AsyncUnaryCall_FirstAddressUnavailable_AnswersFromTheSecondAndSendsTheNextCallThere()
    {
        var (standby, active) = (new FakeOrchestrator("standby", available: false), new FakeOrchestrator("active", available: true));
        var invoker = new FailoverInvoker([standby, active]);

        var first = await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), "ping").ResponseAsync;
        var second = await invoker.AsyncUnaryCall(Unary, null, new CallOptions(), "ping").ResponseAsync;

        Assert.Equal(("active", "active"), (first, second));
        Assert.Equal((1, 2), (standby.Calls, active.Calls));
    }

    [Fact]
    public async Task AsyncUnaryCall_EveryAddressUnavailable_ThrowsUnavailableAfterOneTryEach()
    {
        var (a, b) = (new FakeOrchestrator("a", available: false), new FakeOrchestrator("b", available: false));
        var invoker = new FailoverInvoker([a, b]);

        var error = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(Unary, null, new CallOptions(), "ping").ResponseAsync);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal((1, 1), (a.Calls, b.Calls));
    }

    [Fact]
    public async Task AsyncServerStreamingCall_StreamEndsUnavailable_NextStreamOpensOnTheNextAddress()
    {
        var (killed, standby) = (new FakeOrchestrator("killed", available: false), new FakeOrchestrator("standby", available: true));
        var invoker = new FailoverInvoker([killed, standby]);

        using var broken = invoker.AsyncServerStreamingCall(Stream, null, new CallOptions(), "watch");
        var error = await Assert.ThrowsAsync<RpcException>(() => broken.ResponseStream.MoveNext(CancellationToken.None));
        using var reopened = invoker.AsyncServerStreamingCall(Stream, null, new CallOptions(), "watch");
        var moved = await reopened.ResponseStream.MoveNext(CancellationToken.None);

        Assert.Equal(StatusCode.Unavailable, error.StatusCode);
        Assert.Equal((true, "standby"), (moved, reopened.ResponseStream.Current));
        Assert.Equal(1, invoker.Current);
    }

    [Fact]
    public async Task AsyncUnaryCall_OtherError_IsNotRetriedElsewhere()
    {
        var (a, b) = (new FakeOrchestrator("a", available: true, refuse: StatusCode.InvalidArgument), new FakeOrchestrator("b", available: true));
        var invoker = new FailoverInvoker([a, b]);

        var error = await Assert.ThrowsAsync<RpcException>(() => invoker.AsyncUnaryCall(Unary, null, new CallOptions(), "ping").ResponseAsync);

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal((1, 0, 0), (a.Calls, b.Calls, invoker.Current));
    }

    /// <summary>An orchestrator that answers with its own name, or refuses every call with UNAVAILABLE (or <c>refuse</c>).</summary>
    sealed class FakeOrchestrator(string name, bool available, StatusCode refuse = StatusCode.OK) : CallInvoker
    {
        public int Calls { get; private set; }

        Task<string> Answer()
        {
            Calls++;
            if (!available) return Task.FromException<string>(new RpcException(new Status(StatusCode.Unavailable, $"{name} is not active")));
            if (refuse != StatusCode.OK) return Task.FromException<string>(new RpcException(new Status(refuse, "bad request")));
            return Task.FromResult(name);
        }

        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host,
            CallOptions options, TRequest request) =>
            new((Task<TResponse>)(object)Answer(), Task.FromResult(new Metadata()), () => Status.DefaultSuccess, () => new Metadata(), () => { });

        public override AsyncServerStreamingCall<TResponse> AsyncServerStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
            string? host, CallOptions options, TRequest request) =>
            new(new OneMessage<TResponse>((Task<TResponse>)(object)Answer()), Task.FromResult(new Metadata()), () => Status.DefaultSuccess,
                () => new Metadata(), () => { });

        public override TResponse BlockingUnaryCall<TRequest, TResponse>(Method<TRequest, TResponse> method, string? host, CallOptions options,
            TRequest request) => throw new NotSupportedException();

        public override AsyncClientStreamingCall<TRequest, TResponse> AsyncClientStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
            string? host, CallOptions options) => throw new NotSupportedException();

        public override AsyncDuplexStreamingCall<TRequest, TResponse> AsyncDuplexStreamingCall<TRequest, TResponse>(Method<TRequest, TResponse> method,
            string? host, CallOptions options) => throw new NotSupportedException();
    }

    sealed class OneMessage<T>(Task<T> message) : IAsyncStreamReader<T>
    {
        public T Current { get; private set; } = default!;

        public async Task<bool> MoveNext(CancellationToken cancellationToken)
        {
            Current = await message;
            return true;
        }
    }
}
