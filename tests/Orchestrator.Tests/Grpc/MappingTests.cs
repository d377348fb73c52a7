using Google.Protobuf;
using SpectralDiffusion.Orchestrator.Services;
using SpectralDiffusion.Shared.Contracts.V1;
using SpectralDiffusion.Orchestrator.Domain;
using OrchestratorDomain = SpectralDiffusion.Orchestrator.Domain;
using DeviceKind = SpectralDiffusion.Shared.Contracts.V1.DeviceKind;
using JobState = SpectralDiffusion.Shared.Contracts.V1.JobState;
using JobType = SpectralDiffusion.Shared.Contracts.V1.JobType;
using SweepState = SpectralDiffusion.Shared.Contracts.V1.SweepState;

namespace SpectralDiffusion.Orchestrator.Tests.Grpc;

/// <summary>The one mapping between the wire and the domain: every value has its counterpart, and nothing is lost on the way.</summary>
public class MappingTests
{
    [Fact]
    public void ToDomain_EveryWireEnumValue_MapsBackToItselfUnderTheSameName()
    {
        var states = Enum.GetValues<JobState>().Where(s => s != JobState.Unspecified).ToList();
        var types = Enum.GetValues<JobType>().Where(t => t != JobType.Unspecified).ToList();
        var devices = Enum.GetValues<DeviceKind>().Where(d => d != DeviceKind.Unspecified).ToList();

        Assert.Equal(states, states.Select(s => JobMapping.ToProto(JobMapping.ToDomain(s, "state"))));
        Assert.Equal(types, types.Select(t => JobMapping.ToProto(JobMapping.ToDomain(t, "type"))));
        Assert.Equal(devices, devices.Select(d => JobMapping.ToProto(JobMapping.ToDomain(d, "device"))));
        Assert.Equal(states.Select(s => s.ToString()), states.Select(s => JobMapping.ToDomain(s, "state").ToString()));
        Assert.Equal(Enum.GetValues<OrchestratorDomain.JobState>().Length, states.Count);
        Assert.Equal(Enum.GetValues<OrchestratorDomain.JobType>().Length, types.Count);
        Assert.Equal(Enum.GetValues<OrchestratorDomain.DeviceKind>().Length, devices.Count);
        Assert.Equal(Enum.GetValues<SweepState>().Where(s => s != SweepState.Unspecified),
            Enum.GetValues<OrchestratorDomain.SweepState>().Select(JobMapping.ToProto));
    }

    [Fact]
    public void ToDomain_UnspecifiedOrUnknownValue_InvalidArgumentNamingTheField()
    {
        var unspecified = Assert.Throws<OrchestratorException>(() => JobMapping.ToDomain(JobState.Unspecified, "states[0]"));
        var unknown = Assert.Throws<OrchestratorException>(() => JobMapping.ToDomain((DeviceKind)7, "device"));

        Assert.Equal((OrchestratorErrorKind.InvalidArgument, "states[0]"), (unspecified.Kind, unspecified.Violations.Single().Field));
        Assert.Equal((OrchestratorErrorKind.InvalidArgument, "device"), (unknown.Kind, unknown.Violations.Single().Field));
    }

    [Fact]
    public void ToDocument_DistillSpec_EncodesItAsIsAndReadsTheFieldsTheOrchestratorUses()
    {
        var spec = Specs.Train(worldSize: 4, maxRestarts: 3, priority: 5, name: "mapped");
        spec.Type = JobType.Distill;
        spec.Model.Checkpoint = "artifact:" + new string('a', 64);
        spec.Teacher = new ModelSpec { Preset = "tiny-ldm", Checkpoint = "job:" + Guid.NewGuid() };

        var document = JobMapping.ToDocument(spec);

        Assert.Equal(spec.ToByteArray(), document.Encoded);
        Assert.Equal(JsonFormatter.Default.Format(spec), document.Json);
        Assert.Equal(spec, JobMapping.Spec(document.Encoded));
        Assert.Equal(("mapped", OrchestratorDomain.JobType.Distill, OrchestratorDomain.DeviceKind.Cpu, 4, 5, 3),
            (document.Name, document.Type, document.Device, document.WorldSize, document.Priority, document.MaxRestarts));
        Assert.Equal([(spec.Model.Checkpoint, "model.checkpoint"), (spec.Teacher.Checkpoint, "teacher.checkpoint")], document.Checkpoints);
        Assert.Equal(spec.Labels.OrderBy(l => l.Key), document.Labels.OrderBy(l => l.Key));
    }

    [Fact]
    public void ToProto_StartOrder_CarriesTheSpecRankAndResumeCheckpoint()
    {
        var spec = Specs.Train();
        var checkpoint = new OrchestratorDomain.CheckpointManifest(Guid.NewGuid(), Guid.NewGuid(), 1, 20, 2, true, DateTime.UtcNow, ["artifact:a", "artifact:b"]);
        var order = new OrchestratorDomain.StartOrder(checkpoint.JobId, 2, 1, 2, Guid.NewGuid(), spec.ToByteArray(), checkpoint, "artifact:m", "");

        var start = WorkerMapping.ToProto(order).Start;

        Assert.Equal(spec, start.Spec);
        Assert.Equal((order.JobId.ToString(), 2, 1, 2, order.RendezvousId.ToString()), (start.JobId, start.Attempt, start.Rank, start.WorldSize, start.RendezvousId));
        Assert.Equal((checkpoint.Id.ToString(), 20L, 2), (start.ResumeFrom.CheckpointId, start.ResumeFrom.Step, start.ResumeFrom.WorldSize));
        Assert.Equal(["artifact:a", "artifact:b"], start.ResumeFrom.ShardArtifacts);
        Assert.Equal(("artifact:m", ""), (start.ModelArtifact, start.TeacherArtifact));
    }

    [Fact]
    public void ToProto_AbortOrder_IsAnAbort()
    {
        var order = new OrchestratorDomain.AbortOrder(Guid.NewGuid(), 3, "worker lost", Cancelled: false);

        var assignment = WorkerMapping.ToProto(order);

        Assert.Equal(Assignment.KindOneofCase.Abort, assignment.KindCase);
        Assert.Equal((order.JobId.ToString(), 3, "worker lost", false),
            (assignment.Abort.JobId, assignment.Abort.Attempt, assignment.Abort.Reason, assignment.Abort.Cancelled));
    }
}
