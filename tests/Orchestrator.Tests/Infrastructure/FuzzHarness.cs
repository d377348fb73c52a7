using System.Diagnostics;
using Google.Protobuf;
using Grpc.Core;
using Npgsql;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using Xunit.Abstractions;

namespace SpectralDiffusion.Orchestrator.Tests;

/// <summary>A server whose one data root is <see cref="DataRoot"/>, for fuzz tests (one per test class).</summary>
public sealed class FuzzFixture : ServerFixture
{
    public const string DataRoot = "/srv/fuzz-data";

    protected override IDictionary<string, string?> Overrides => new Dictionary<string, string?> { ["Orchestrator:DataRoots:0"] = DataRoot };
}

/// <summary>One fuzzed call: its method, the request (for the failure message) and how to make it.</summary>
public sealed record FuzzCall(string Method, IMessage? Request, Func<Task> Run, bool MayTimeOut = false)
{
    public static DateTime Deadline() => DateTime.UtcNow.AddSeconds(10);

    public static FuzzCall Unary<TRequest, TResponse>(string method, TRequest request, Func<TRequest, AsyncUnaryCall<TResponse>> call, bool mayTimeOut = false)
        where TRequest : IMessage => new(method, request, async () => await call(request), mayTimeOut);

    public static FuzzCall Streamed<TRequest, TResponse>(string method, TRequest request, Func<TRequest, AsyncServerStreamingCall<TResponse>> call)
        where TRequest : IMessage => new(method, request, async () =>
        {
            using var stream = call(request);
            while (await stream.ResponseStream.MoveNext(CancellationToken.None)) { }
        }, MayTimeOut: true);

    public static FuzzCall Upload(Workers.WorkersClient client, ArtifactHeader header, byte[] content, bool headerFirst) =>
        new("Workers/UploadArtifact", header, async () =>
        {
            using var call = client.UploadArtifact(deadline: Deadline());
            if (headerFirst) await call.RequestStream.WriteAsync(new ArtifactChunk { Header = header });
            await call.RequestStream.WriteAsync(new ArtifactChunk { Data = ByteString.CopyFrom(content) });
            await call.RequestStream.CompleteAsync();
            await call;
        });
}

/// <summary>
/// Runs fuzzed calls against a fixture's server and checks the invariants: no UNKNOWN or INTERNAL, no call hanging
/// until the client's deadline (except waits that may), a refused call changes no table and no stored file, and at
/// the end every stored job and artifact is whole.
/// </summary>
public sealed class FuzzHarness(ServerFixture fixture, ITestOutputHelper output)
{
    public async Task<(List<string> Failures, Dictionary<string, int> Accepted)> RunAsync(Fuzz fuzz, int iterations, Func<FuzzCall> next,
        Action<FuzzCall> onAccepted)
    {
        var failures = new List<string>();
        var accepted = new Dictionary<string, int>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < iterations; i++)
        {
            var call = next();
            var before = await Fuzz.RowCountsAsync(fixture.Database.ConnectionString);
            var files = StoredFiles();
            var (ok, code, detail) = await Fuzz.CallAsync(call.Run);
            string Describe(string what) => $"#{i} {call.Method} {what}: {Echo.Short(detail)} — request {(call.Request is null ? "(none)" : Fuzz.Show(call.Request))}";
            if (code is StatusCode.Unknown or StatusCode.Internal) failures.Add(Describe($"got {code}"));
            else if (code == StatusCode.DeadlineExceeded && !call.MayTimeOut) failures.Add(Describe("hung until the client deadline"));
            if (ok)
            {
                accepted[call.Method] = accepted.GetValueOrDefault(call.Method) + 1;
                onAccepted(call);
            }
            else if (await Fuzz.RowCountsAsync(fixture.Database.ConnectionString) is var after && after != before)
                failures.Add(Describe($"was refused ({code}) but changed the tables: {before} → {after}"));
            else if (StoredFiles() is var filesAfter && filesAfter != files)
                failures.Add(Describe($"was refused ({code}) but changed the artifact store: [{files}] → [{filesAfter}]"));
        }
        output.WriteLine($"seed {fuzz.Seed}: {iterations} calls in {clock.Elapsed.TotalSeconds:0.0} s; accepted: " +
                         string.Join(", ", accepted.OrderBy(a => a.Key).Select(a => $"{a.Key} {a.Value}")));
        return (failures, accepted);
    }

    /// <summary>Every stored job is whole: its spec parses, is valid under the server's rules, and matches its columns and JSON; every artifact row has its file and every file its row.</summary>
    public async Task AssertStoredStateIsWholeAsync()
    {
        var validator = new JobSpecValidator(8, SpecPathRules.Server([FuzzFixture.DataRoot]));
        await using var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand("SELECT spec, spec_json::text, name, type, preset, device, world_size, max_restarts, labels::text FROM jobs", connection))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync())
            {
                var spec = JobSpec.Parser.ParseFrom(reader.GetFieldValue<byte[]>(0));
                // The JSON copy says the same (by value: jsonb keeps -0 as 0).
                using (var stored = System.Text.Json.JsonDocument.Parse(reader.GetString(1)))
                using (var expected = System.Text.Json.JsonDocument.Parse(JsonFormatter.Default.Format(spec)))
                    Assert.True(System.Text.Json.JsonElement.DeepEquals(expected.RootElement, stored.RootElement), $"spec_json differs from spec: {reader.GetString(1)}");
                Assert.Empty(validator.Validate(spec.Clone()));
                Assert.Equal((spec.Name, spec.Type.ToString().ToUpperInvariant(), spec.Model.Preset, spec.Device.ToString().ToLowerInvariant(), spec.WorldSize, spec.MaxRestarts),
                    (reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetInt32(6), reader.GetInt32(7)));
                Assert.Equal(spec.Labels.ToDictionary(), System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(reader.GetString(8)));
            }
        var rows = new List<string>();
        await using (var command = new NpgsqlCommand("SELECT sha256 FROM artifacts ORDER BY sha256", connection))
        await using (var reader = await command.ExecuteReaderAsync())
            while (await reader.ReadAsync()) rows.Add(reader.GetString(0));
        Assert.Equal(string.Join(",", rows), StoredFiles());
    }

    /// <summary>The content files of the artifact store, by name (uploads in progress under tmp/ left out).</summary>
    string StoredFiles()
    {
        var root = ((OrchestratorServer)fixture.Server).ArtifactRoot;
        return Directory.Exists(root)
            ? string.Join(",", Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetRelativePath(root, f).StartsWith("tmp/", StringComparison.Ordinal)).Select(Path.GetFileName).Order(StringComparer.Ordinal))
            : "";
    }
}

/// <summary>
/// Raw gRPC over HTTP/2 without a generated client: one request frame (the 5-byte header, then the bytes as given), so
/// a test can send what no client library would (random bytes, truncated messages, invalid UTF-8 in a string field).
/// </summary>
public sealed class RawGrpcClient(string address) : IDisposable
{
    readonly HttpClient http = new() { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Sends <paramref name="message"/> as one frame to /<paramref name="method"/> (e.g. "spectral.v1.Jobs/Get") and returns its grpc-status.</summary>
    public async Task<StatusCode?> CallAsync(string method, byte[] message, IEnumerable<KeyValuePair<string, string>> headers)
    {
        var frame = new byte[5 + message.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(1), (uint)message.Length);
        message.CopyTo(frame, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/" + method)
        {
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(frame),
        };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        await response.Content.CopyToAsync(Stream.Null);
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var trailer) ? trailer.First()
            : response.Headers.TryGetValues("grpc-status", out var header) ? header.First() : null;
        return status is null ? null : (StatusCode)int.Parse(status);
    }

    public void Dispose() => http.Dispose();
}
