using Google.Protobuf;
using Npgsql;
using SpectralDiffusion.Orchestrator.Persistence;
using SpectralDiffusion.Orchestrator.Services;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Shared.Jobs;
using OrchestratorDomain = SpectralDiffusion.Orchestrator.Domain;

namespace SpectralDiffusion.Orchestrator.Tests.Persistence;

/// <summary>
/// A job's spec is stored as it was accepted (the protobuf and its JSON), and a row written before the domain kept its
/// own spec type is read back whole: existing databases keep working.
/// </summary>
public class JobSpecStorageTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    Jobs.JobsClient Jobs => new(fixture.Server.AsSubmitter);

    [Fact]
    public async Task Submit_SpecWithLabels_StoresTheAcceptedProtobufAndItsJson()
    {
        // Arrange: a cuda job, which no worker here takes, so it stays as submitted.
        var spec = Specs.Train(worldSize: 1, name: "stored-as-accepted");
        spec.Device = DeviceKind.Cuda;
        spec.Labels["team"] = "vision";
        var accepted = spec.Clone();
        JobSpecDefaults.Apply(accepted);

        // Act
        var job = await Jobs.SubmitAsync(new SubmitJobRequest { Spec = spec });
        await using var connection = await OpenAsync();
        var (bytes, jsonMatches) = await ReadStoredAsync(connection, Guid.Parse(job.Id), JsonFormatter.Default.Format(accepted));

        // Assert
        Assert.Equal(accepted.ToByteArray(), bytes);
        Assert.True(jsonMatches, "spec_json is not the accepted spec's JSON");
        Assert.Equal(accepted, job.Spec);
    }

    [Fact]
    public async Task LoadForUpdateAsync_RowWrittenInTheEarlierForm_ReadsEveryFieldTheOrchestratorUses()
    {
        // Arrange: a distill job's row as the insert wrote it before, column by column from the proto spec.
        var spec = Specs.Train(worldSize: 3, maxRestarts: 2, priority: 7, name: "written-before");
        spec.Type = JobType.Distill;
        spec.Device = DeviceKind.Cuda;
        spec.Model.Checkpoint = "/data/student-start.safetensors";
        spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = $"job:{Guid.NewGuid()}" };
        var id = Guid.NewGuid();
        await using var connection = await OpenAsync();
        await InsertAsEarlierAsync(connection, id, spec);

        // Act
        var job = await JobRepository.LoadForUpdateAsync(connection, id, CancellationToken.None);

        // Assert
        Assert.NotNull(job);
        var document = job.Spec;
        Assert.Equal(spec.ToByteArray(), document.Encoded);
        Assert.Equal(spec, JobMapping.Spec(document.Encoded));
        Assert.Equal(("written-before", OrchestratorDomain.JobType.Distill, OrchestratorDomain.DeviceKind.Cuda, 3, 7, 2),
            (document.Name, document.Type, document.Device, document.WorldSize, document.Priority, document.MaxRestarts));
        Assert.Equal(("tiny-ldm", "/data/student-start.safetensors", "tiny-ldm", spec.Teacher.Checkpoint),
            (document.Preset, document.ModelCheckpoint, document.TeacherPreset, document.TeacherCheckpoint));
        Assert.Equal(spec.Labels.OrderBy(l => l.Key), document.Labels.OrderBy(l => l.Key));
        Assert.Equal(OrchestratorDomain.JobState.Queued, job.State);
    }

    [Fact]
    public async Task LoadForUpdateAsync_EarlierRowWithoutTeacherOrCheckpoint_ReadsThemAsEmpty()
    {
        // Arrange: the JSON copy leaves out empty fields, so neither checkpoint is in it.
        var spec = Specs.Train(worldSize: 1, name: "written-before-plain");
        spec.Device = DeviceKind.Cuda;
        var id = Guid.NewGuid();
        await using var connection = await OpenAsync();
        await InsertAsEarlierAsync(connection, id, spec);

        // Act
        var job = await JobRepository.LoadForUpdateAsync(connection, id, CancellationToken.None);

        // Assert
        Assert.NotNull(job);
        Assert.Equal(("", "", ""), (job.Spec.ModelCheckpoint, job.Spec.TeacherPreset, job.Spec.TeacherCheckpoint));
        Assert.Equal(spec.ToByteArray(), job.Spec.Encoded);
    }

    async Task<NpgsqlConnection> OpenAsync()
    {
        var connection = new NpgsqlConnection(fixture.Database.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    static async Task<(byte[] Bytes, bool JsonMatches)> ReadStoredAsync(NpgsqlConnection connection, Guid id, string expectedJson)
    {
        await using var command = new NpgsqlCommand("SELECT spec, spec_json = @json::jsonb FROM jobs WHERE id = @id", connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("json", expectedJson);
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"job {id} is not stored");
        return (reader.GetFieldValue<byte[]>(0), reader.GetBoolean(1));
    }

    /// <summary>The columns the insert wrote before the domain had its own spec type, computed from the proto spec as it did.</summary>
    static async Task InsertAsEarlierAsync(NpgsqlConnection connection, Guid id, JobSpec spec)
    {
        await using var command = new NpgsqlCommand("""
            INSERT INTO jobs (id, name, type, state, spec, spec_json, preset, teacher_preset, device, world_size, priority, max_restarts, labels)
            VALUES (@id, @name, @type, 'QUEUED', @spec, @spec_json::jsonb, @preset, @teacher_preset, @device, @world_size, @priority, @max_restarts,
                    @labels::jsonb)
            """, connection);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("name", spec.Name);
        command.Parameters.AddWithValue("type", spec.Type.ToString().ToUpperInvariant());
        command.Parameters.AddWithValue("spec", spec.ToByteArray());
        command.Parameters.AddWithValue("spec_json", JsonFormatter.Default.Format(spec));
        command.Parameters.AddWithValue("preset", spec.Model.Preset);
        command.Parameters.AddWithValue("teacher_preset", spec.Teacher?.Preset ?? "");
        command.Parameters.AddWithValue("device", spec.Device.ToString().ToLowerInvariant());
        command.Parameters.AddWithValue("world_size", spec.WorldSize);
        command.Parameters.AddWithValue("priority", spec.Priority);
        command.Parameters.AddWithValue("max_restarts", spec.MaxRestarts);
        command.Parameters.AddWithValue("labels", System.Text.Json.JsonSerializer.Serialize(spec.Labels.ToDictionary()));
        await command.ExecuteNonQueryAsync();
    }
}
