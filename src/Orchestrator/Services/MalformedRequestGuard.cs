using System.Reflection;
using System.Text;
using Google.Protobuf;
using Grpc.AspNetCore.Server.Model;
using Grpc.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace SpectralDiffusion.Orchestrator.Services;

/// <summary>
/// Binds every generated gRPC service as Grpc.AspNetCore's own provider does, with one change: a request body that is
/// not a valid message (invalid UTF-8 in a string field, a truncated or corrupt message) becomes INVALID_ARGUMENT,
/// logged once at warning level without a stack trace. Without it the parse failure surfaces before any interceptor,
/// as UNKNOWN "Exception was thrown by handler" with the stack trace logged at error level on every such request.
/// Registered in place of the default provider by <see cref="MalformedRequests.UseMalformedRequestGuard"/>.
/// </summary>
public sealed class MalformedRequestGuard<TService>(ILogger<MalformedRequestGuard<TService>> logger) : IServiceMethodProvider<TService>
    where TService : class
{
    public void OnServiceMethodDiscovery(ServiceMethodProviderContext<TService> context)
    {
        var bind = typeof(TService).GetCustomAttributes<BindServiceMethodAttribute>(inherit: true).FirstOrDefault();
        var bindMethod = bind?.BindType.GetMethods(BindingFlags.Public | BindingFlags.Static).SingleOrDefault(m =>
            m.Name == bind.BindMethodName && m.GetParameters() is [var binder, _] && binder.ParameterType == typeof(ServiceBinderBase));
        bindMethod?.Invoke(null, [new Binder(context, logger), null]);
    }

    sealed class Binder(ServiceMethodProviderContext<TService> context, ILogger logger) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler)
        {
            var handlerMethod = Handler(method.Name, typeof(TRequest), typeof(ServerCallContext));
            context.AddUnaryMethod(Guarded(method), Metadata(handlerMethod), Invoker<UnaryServerMethod<TService, TRequest, TResponse>>(handlerMethod));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var handlerMethod = Handler(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(ServerCallContext));
            context.AddClientStreamingMethod(Guarded(method), Metadata(handlerMethod),
                Invoker<ClientStreamingServerMethod<TService, TRequest, TResponse>>(handlerMethod));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var handlerMethod = Handler(method.Name, typeof(TRequest), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddServerStreamingMethod(Guarded(method), Metadata(handlerMethod),
                Invoker<ServerStreamingServerMethod<TService, TRequest, TResponse>>(handlerMethod));
        }

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler)
        {
            var handlerMethod = Handler(method.Name, typeof(IAsyncStreamReader<TRequest>), typeof(IServerStreamWriter<TResponse>), typeof(ServerCallContext));
            context.AddDuplexStreamingMethod(Guarded(method), Metadata(handlerMethod),
                Invoker<DuplexStreamingServerMethod<TService, TRequest, TResponse>>(handlerMethod));
        }

        static MethodInfo Handler(string name, params Type[] parameters) =>
            typeof(TService).GetMethod(name, BindingFlags.Public | BindingFlags.Instance, parameters)
            ?? throw new InvalidOperationException($"{typeof(TService).Name} has no method {name} for its gRPC method");

        static TDelegate Invoker<TDelegate>(MethodInfo handler) where TDelegate : Delegate =>
            (TDelegate)Delegate.CreateDelegate(typeof(TDelegate), handler);

        static List<object> Metadata(MethodInfo handler) =>
        [
            .. typeof(TService).GetCustomAttributes(inherit: true),
            .. handler.GetCustomAttributes(inherit: true),
            new HttpMethodMetadata(["POST"], acceptCorsPreflight: true),
        ];

        Method<TRequest, TResponse> Guarded<TRequest, TResponse>(Method<TRequest, TResponse> method)
        {
            var parse = method.RequestMarshaller.ContextualDeserializer;
            var requests = new Marshaller<TRequest>(method.RequestMarshaller.ContextualSerializer, body =>
            {
                try { return parse(body); }
                catch (Exception e) when (e is InvalidProtocolBufferException or DecoderFallbackException)
                {
                    logger.LogWarning("{Method} refused a malformed {Message}: {Reason}", method.FullName, typeof(TRequest).Name, e.Message);
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"the request is not a valid {typeof(TRequest).Name} message: {e.Message}"));
                }
            });
            return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requests, method.ResponseMarshaller);
        }
    }
}

public static class MalformedRequests
{
    /// <summary>Replaces Grpc.AspNetCore's default service binding with <see cref="MalformedRequestGuard{TService}"/>; call after every AddGrpc*.</summary>
    public static IServiceCollection UseMalformedRequestGuard(this IServiceCollection services)
    {
        services.RemoveAll(typeof(IServiceMethodProvider<>));
        return services.AddSingleton(typeof(IServiceMethodProvider<>), typeof(MalformedRequestGuard<>));
    }
}
