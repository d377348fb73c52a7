extern alias contracts;
using System.CommandLine;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Spectre.Console;
using SpectralDiffusion.Shared.Jobs;
using SpectralDiffusion.Shared.Rpc;
using SpectralDiffusion.Shared.Security;
using Clients = contracts::SpectralDiffusion.Shared.Contracts.V1;

namespace SpectralDiffusion.Orchestrator.Cli;

/// <summary>
/// What every ops verb shares: <c>--address</c> (env SD_ORCHESTRATOR, default http://127.0.0.1:5080; an active
/// orchestrator and its standby as <c>a,b</c>, and the verb asks whichever is active), <c>--api-key</c>
/// (env SD_API_KEY), <c>--json</c>; the channel; and errors turned into one actionable line and an exit code.
/// </summary>
public sealed class CliContext(string address, string? apiKey, bool json)
{
    public const string DefaultAddress = OrchestratorAddress.Default;

    public static readonly Option<string> AddressOption = new("--address")
    {
        Description = "Orchestrator address, or the active's and the standby's as a,b (env SD_ORCHESTRATOR)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SD_ORCHESTRATOR") is { Length: > 0 } env ? env : DefaultAddress,
    };
    public static readonly Option<string?> ApiKeyOption = new("--api-key")
    {
        Description = "API key with role submit or read (env SD_API_KEY)",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("SD_API_KEY"),
    };
    public static readonly Option<bool> JsonOption = new("--json") { Description = "Print JSON for scripts instead of tables" };

    public bool Json { get; } = json;
    public CallInvoker Invoker { get; } = CreateInvoker(address, apiKey);

    // Shared's client stubs: in this project the names Jobs, Workers and RunHistory are the generated server bases.
    public Clients.Jobs.JobsClient Jobs => new(Invoker);
    public Clients.Workers.WorkersClient Workers => new(Invoker);
    public Clients.RunHistory.RunHistoryClient RunHistory => new(Invoker);
    public Clients.Sweeps.SweepsClient Sweeps => new(Invoker);
    public Clients.JobArtifacts.JobArtifactsClient Artifacts => new(Invoker);

    /// <summary>A verb with the shared options, whose action gets a <see cref="CliContext"/> and returns an exit code.</summary>
    public static Command Verb(string name, string description, Func<ParseResult, CliContext, CancellationToken, Task<int>> action, params Symbol[] symbols)
    {
        var command = new Command(name, description);
        foreach (var symbol in symbols)
        {
            if (symbol is Argument argument) command.Arguments.Add(argument);
            else if (symbol is Option option) command.Options.Add(option);
        }
        command.Options.Add(AddressOption);
        command.Options.Add(ApiKeyOption);
        command.Options.Add(JsonOption);
        command.SetAction(async (parse, cancellation) =>
        {
            // Write to the current stdout: a verb invoked in-process after Console.SetOut (tests, hosts) must not keep
            // writing to the writer Spectre captured at its first use.
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
            // Piped or captured output has no terminal width; tables then get a readable width instead of 80 columns.
            if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 180);
            var address = parse.GetValue(AddressOption)!;
            try
            {
                return await action(parse, new CliContext(address, parse.GetValue(ApiKeyOption), parse.GetValue(JsonOption)), cancellation);
            }
            catch (RpcException e) { return Fail(Explain(e, address)); }
            catch (JobSpecFormatException e) { return Fail(e.Message, 2); }
            catch (OrchestratorAddressException e) { return Fail(e.Message, 2); }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested) { return 130; }
        });
        return command;
    }

    public void PrintJson(IMessage message) => Console.WriteLine(ToJson(message));

    /// <summary>A message in the proto3 JSON mapping (field names in lowerCamelCase, as grpcurl prints them).</summary>
    public static string ToJson(IMessage message) => JsonFormatter.Default.Format(message);

    public static int Fail(string message, int code = 1)
    {
        AnsiConsole.MarkupLineInterpolated($"[red]error:[/] {message}");
        return code;
    }

    static string Explain(RpcException e, string address) => e.StatusCode switch
    {
        StatusCode.Unavailable => $"cannot reach the orchestrator at {address} ({e.Status.Detail}). Start one with `orchestrator serve`, " +
                                  "or point --address / SD_ORCHESTRATOR at a running server.",
        StatusCode.Unauthenticated => $"{e.Status.Detail}. Pass --api-key or set SD_API_KEY.",
        StatusCode.PermissionDenied => $"{e.Status.Detail}. Use an API key with role submit.",
        StatusCode.InvalidArgument when e.GetRpcStatus()?.GetDetail<BadRequest>() is { } bad =>
            "the orchestrator rejected the request:\n" + string.Join("\n", bad.FieldViolations.Select(v => $"  {v.Field}: {v.Description}")),
        _ => $"{e.StatusCode}: {e.Status.Detail}",
    };

    static CallInvoker CreateInvoker(string address, string? apiKey)
    {
        var invoker = new FailoverInvoker(OrchestratorAddress.ParseList(address, "--address / SD_ORCHESTRATOR")
            .Select(uri => GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = OrchestratorHttpHandler.Create(), DisposeHttpClient = true })
                .CreateCallInvoker()).ToList());
        return apiKey is { Length: > 0 } key
            ? invoker.Intercept(metadata =>
            {
                metadata.Add(ClientCredentialHeaders.ApiKey, key);
                return metadata;
            })
            : invoker;
    }
}
