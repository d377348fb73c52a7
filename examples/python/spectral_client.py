#!/usr/bin/python3
"""A Python client of the orchestrator, built from proto/ alone.

The gRPC stubs are generated at run time from the repository's .proto files with Debian's python3-grpc-tools
(apt-get install python3-grpcio python3-grpc-tools python3-yaml); nothing is checked in and nothing comes from PyPI.

    spectral_client.py submit examples/pipeline/teacher.yaml --watch   # submit a YAML spec and follow it to the end
    spectral_client.py watch JOB_ID                                   # follow a job
    spectral_client.py history [--type train]                         # run history: runs, final metrics, evaluations
    spectral_client.py artifacts JOB_ID                               # a job's model, checkpoints and files (read key)
    spectral_client.py download JOB_ID [--what model|checkpoint[:STEP]|NAME] [--out PATH]   # SHA-256 checked
    spectral_client.py logs JOB_ID [--rank N] [--attempt N] [--follow] # a job's log lines, as `orchestrator logs` prints them

The address and key come from --address / --api-key or SD_ORCHESTRATOR / SD_API_KEY, as for the .NET CLI. An active
orchestrator and its standby are given as a,b: each call goes to the one that answers (a standby answers UNAVAILABLE).
"""
import argparse
import hashlib
import importlib
import os
import re
import shutil
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}
# How long calls go round an active orchestrator and its standbys while none answers (a takeover takes a second or two).
FAILOVER_PATIENCE_SECONDS = 30.0


def generate_stubs(proto_root):
    """Compiles proto_root/spectral/v1/*.proto into a temporary package and returns its modules.

    Debian 12's protoc (python3-grpc-tools) rejects proto3 `optional`. Such a field is, on the wire and in the
    descriptor, a field inside a one-field oneof, so each `optional T name = N;` is rewritten to
    `oneof _name { T name = N; }` in a copy: same bytes, and HasField() still tells a set 0 from an unset field.
    """
    from grpc_tools import protoc

    work = tempfile.mkdtemp(prefix="spectral-stubs-")
    source = os.path.join(work, "proto")
    out = os.path.join(work, "out")
    shutil.copytree(os.path.join(proto_root, "spectral"), os.path.join(source, "spectral"))
    os.makedirs(out)
    files = []
    for folder, _, names in os.walk(source):
        for name in names:
            if not name.endswith(".proto"):
                continue
            path = os.path.join(folder, name)
            with open(path) as f:
                text = f.read()
            text = re.sub(r"^(\s*)optional\s+([\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;", r"\1oneof _\3 { \2 \3 = \4; }", text, flags=re.M)
            with open(path, "w") as f:
                f.write(text)
            files.append(os.path.relpath(path, source))
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    status = protoc.main(["protoc", "-I" + source, "-I" + include, "--python_out=" + out, "--grpc_python_out=" + out] + sorted(files))
    if status != 0:
        sys.exit("error: protoc could not compile %s (exit %d)" % (proto_root, status))
    sys.path.insert(0, out)
    return {name: importlib.import_module("spectral.v1." + name) for name in
            ("spec_pb2", "jobs_pb2", "jobs_pb2_grpc", "history_pb2", "history_pb2_grpc", "artifacts_pb2", "artifacts_pb2_grpc",
             "logs_pb2", "logs_pb2_grpc")}


def enum_value(enum_type, text):
    """'train' -> JOB_TYPE_TRAIN's number: the spec YAML uses the short lower-case names, as the .NET CLI does."""
    prefix = re.sub(r"(?<!^)([A-Z])", r"_\1", enum_type.name).upper() + "_"
    for value in enum_type.values:
        if value.name in (str(text).upper(), prefix + str(text).upper()):
            return value.number
    names = ", ".join(v.name[len(prefix):].lower() for v in enum_type.values if v.number != 0)
    raise ValueError("'%s' is not one of %s" % (text, names))


def fill(message, values, path=""):
    """Sets message's fields from a YAML mapping (snake_case keys as in spec.proto); names the field on bad input."""
    if not isinstance(values, dict):
        raise ValueError("%s: expected a mapping, got %r" % (path or "spec", values))
    for key, value in values.items():
        field = message.DESCRIPTOR.fields_by_name.get(key)
        where = path + key
        if field is None:
            raise ValueError("%s: no such field in %s" % (where, message.DESCRIPTOR.full_name))
        try:
            if field.message_type is not None and field.message_type.GetOptions().map_entry:
                getattr(message, key).update({str(k): str(v) for k, v in (value or {}).items()})
            elif field.message_type is not None:
                items = value if field.label == field.LABEL_REPEATED else [value]
                for item in items:
                    target = getattr(message, key).add() if field.label == field.LABEL_REPEATED else getattr(message, key)
                    fill(target, item or {}, where + ".")
            elif field.label == field.LABEL_REPEATED:
                getattr(message, key).extend(enum_value(field.enum_type, v) if field.enum_type else v for v in value)
            elif field.enum_type is not None:
                setattr(message, key, enum_value(field.enum_type, value))
            else:
                setattr(message, key, value)
        except (TypeError, ValueError) as e:
            if str(e).startswith(where):
                raise
            raise ValueError("%s: %s" % (where, e))


def load_spec(stubs, path, overrides):
    import yaml

    with open(path) as f:
        values = yaml.safe_load(f) or {}
    for override in overrides:
        key, _, raw = override.partition("=")
        node = values
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = yaml.safe_load(raw)
    spec = stubs["spec_pb2"].JobSpec()
    try:
        fill(spec, values)
    except ValueError as e:
        sys.exit("error: %s: %s" % (path, e))
    return spec


def short(enum_name):
    return enum_name.split("_", 2)[-1].lower() if enum_name.startswith("JOB_") else enum_name


def watch(stubs, channel, metadata, job_id):
    """Prints each event of the job until it ends; returns its final state's name."""
    jobs = stubs["jobs_pb2_grpc"].JobsStub(channel)
    state_name = stubs["jobs_pb2"].JobState.Name
    for event in jobs.Watch(stubs["jobs_pb2"].WatchJobRequest(id=job_id), metadata=metadata):
        job = event.job
        state = state_name(job.state)
        progress = job.progress
        metrics = " ".join("%s=%.4g" % kv for kv in sorted(progress.metrics.items()))
        print("%s %-9s step %d/%d %s %s" % (job.id[:8], short(state), progress.step, progress.total_steps, progress.phase, metrics), flush=True)
        if state in TERMINAL:
            if job.failure_reason:
                print("failure: " + job.failure_reason)
            return state
    return state_name(jobs.Get(stubs["jobs_pb2"].GetJobRequest(id=job_id), metadata=metadata).state)


def history(stubs, channel, metadata, job_type):
    runs_client = stubs["history_pb2_grpc"].RunHistoryStub(channel)
    type_value = enum_value(stubs["spec_pb2"].JobType.DESCRIPTOR, job_type) if job_type else 0
    runs = runs_client.ListRuns(stubs["history_pb2"].ListRunsRequest(type=type_value, limit=50), metadata=metadata).runs
    print("%-36s  %-24s %-9s %-10s %-14s %6s  %s" % ("job", "name", "type", "state", "preset", "steps", "final metrics"))
    for run in runs:
        metrics = " ".join("%s=%.4g" % kv for kv in sorted(run.final_metrics.items()) if kv[0].startswith("loss"))
        print("%-36s  %-24s %-9s %-10s %-14s %6d  %s" % (run.job_id, run.name[:24], short(stubs["spec_pb2"].JobType.Name(run.type)),
                                                         short(stubs["jobs_pb2"].JobState.Name(run.state)), run.preset, run.steps, metrics))
    evaluations = runs_client.ListEvaluations(stubs["history_pb2"].ListEvaluationsRequest(limit=20), metadata=metadata).evaluations
    if evaluations:
        print("\n%-36s  %-14s %8s %10s %10s" % ("evaluation job", "preset", "FID", "low-freq", "high-freq"))
        for e in evaluations:
            fid = "%.2f" % e.fid if e.HasField("fid") else "n/a"
            print("%-36s  %-14s %8s %10.4f %10.4f" % (e.job_id, e.preset, fid, e.low_frequency_error, e.high_frequency_error))
    return runs


def with_active(addresses, run):
    """Returns run(channel) from the first address that answers. UNAVAILABLE (a standby, or an orchestrator that is gone)
    moves on to the next address; with several addresses they are gone round for FAILOVER_PATIENCE_SECONDS."""
    import grpc

    deadline = time.monotonic() + (FAILOVER_PATIENCE_SECONDS if len(addresses) > 1 else 0)
    while True:
        for address in addresses:
            with grpc.insecure_channel(address) as channel:
                try:
                    return run(channel)
                except grpc.RpcError as e:
                    if e.code() != grpc.StatusCode.UNAVAILABLE:
                        raise
                    unavailable = e
        if time.monotonic() >= deadline:
            raise unavailable
        time.sleep(1)


def artifacts(stubs, channel, metadata, job_id):
    """Prints the job's artifacts: name, kind, step, size, SHA-256."""
    client = stubs["artifacts_pb2_grpc"].JobArtifactsStub(channel)
    listed = client.List(stubs["artifacts_pb2"].ListJobArtifactsRequest(job_id=job_id), metadata=metadata).artifacts
    for artifact in listed:
        print("%-44s %-16s %8s %12d  %s" % (artifact.name, artifact.kind, artifact.step if artifact.kind.startswith("checkpoint") else "",
                                            artifact.size, artifact.sha256))
    return listed


def download(stubs, channel, metadata, job_id, what, out):
    """Streams one artifact into a temporary file beside `out`, checks the announced size and SHA-256, then renames it.

    Returns (path, sha256); raises ValueError (nothing left under the final name) when the content does not match."""
    client = stubs["artifacts_pb2_grpc"].JobArtifactsStub(channel)
    stream = client.Download(stubs["artifacts_pb2"].DownloadJobArtifactRequest(job_id=job_id, what=what), metadata=metadata)
    header = next(stream).header
    name = os.path.basename(header.name.replace("/", "-"))
    path = os.path.abspath(os.path.join(out, name) if out and os.path.isdir(out) else out or name)
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".part", dir=folder)
    try:
        digest, received = hashlib.sha256(), 0
        with os.fdopen(handle, "wb") as f:
            for chunk in stream:
                digest.update(chunk.data)
                f.write(chunk.data)
                received += len(chunk.data)
        if received != header.size or digest.hexdigest() != header.sha256:
            raise ValueError("%s: received %d bytes hashing to %s; the orchestrator announced %d bytes, sha256 %s; nothing was saved"
                             % (header.name, received, digest.hexdigest(), header.size, header.sha256))
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path, header.sha256


def logs(stubs, channel, metadata, job_id, rank=None, attempt=None, follow=False):
    """Prints the job's log lines as `orchestrator logs` does ("[attempt 1 rank 0] 12:34:56.789 ERR text", UTC)."""
    request = stubs["logs_pb2"].ReadLogsRequest(job_id=job_id, follow=follow)
    if rank is not None:
        request.rank = rank
    if attempt is not None:
        request.attempt = attempt
    for line in stubs["logs_pb2_grpc"].LogsStub(channel).Read(request, metadata=metadata):
        prefix = "[attempt %d rank %d]" % (line.attempt, line.rank)
        if line.omitted_before:
            print("%s … %d lines omitted (the log's size cap keeps the head and the tail) …" % (prefix, line.omitted_before))
        print("%s %s %s %s" % (prefix, line.time.ToDatetime().strftime("%H:%M:%S.%f")[:12], line.level, line.text), flush=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Submit, watch and read run history from a Spectral Diffusion orchestrator (gRPC).")
    parser.add_argument("--address", default=os.environ.get("SD_ORCHESTRATOR", "127.0.0.1:5080"),
                        help="host:port of the orchestrator's gRPC port, or the active's and the standby's as a,b "
                             "(env SD_ORCHESTRATOR; http:// is accepted and dropped)")
    parser.add_argument("--api-key", default=os.environ.get("SD_API_KEY", ""), help="API key, role submit (to submit) or read (env SD_API_KEY)")
    parser.add_argument("--proto-root", default=os.path.join(REPO, "proto"), help="folder holding spectral/v1/*.proto")
    commands = parser.add_subparsers(dest="command", required=True)
    submit = commands.add_parser("submit", help="submit a YAML job spec; prints the job id")
    submit.add_argument("spec", help="YAML spec, snake_case keys as in proto/spectral/v1/spec.proto")
    submit.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a spec key, e.g. schedule.steps=50")
    submit.add_argument("--watch", action="store_true", help="then follow the job to its end")
    follow = commands.add_parser("watch", help="follow a job until it ends")
    follow.add_argument("job_id")
    runs = commands.add_parser("history", help="print run history and evaluations")
    runs.add_argument("--type", default="", help="train, distill or evaluate")
    listing = commands.add_parser("artifacts", help="list a job's artifacts (model, checkpoints, files)")
    listing.add_argument("job_id")
    fetch = commands.add_parser("download", help="download one artifact of a job, checking its SHA-256")
    fetch.add_argument("job_id")
    fetch.add_argument("--what", default="model", help="model, checkpoint (newest, one file), checkpoint:STEP, or a listed name")
    fetch.add_argument("--out", default="", help="file or existing folder (default: the artifact's name here)")
    read_logs = commands.add_parser("logs", help="print a job's log lines (every rank, or one)")
    read_logs.add_argument("job_id")
    read_logs.add_argument("--rank", type=int, default=None, help="only this rank's lines")
    read_logs.add_argument("--attempt", type=int, default=None, help="only this attempt's lines (default: every attempt)")
    read_logs.add_argument("--follow", action="store_true", help="keep printing new lines until the job ends")
    args = parser.parse_args(argv)

    import grpc

    stubs = generate_stubs(args.proto_root)
    addresses = [re.sub(r"^https?://", "", address.strip()) for address in args.address.split(",")]
    metadata = [("x-api-key", args.api_key)] if args.api_key else []
    try:
        if args.command == "submit":
            spec = load_spec(stubs, args.spec, args.set)
            job = with_active(addresses, lambda channel: stubs["jobs_pb2_grpc"].JobsStub(channel).Submit(
                stubs["jobs_pb2"].SubmitJobRequest(spec=spec), metadata=metadata))
            print(job.id, flush=True)
            if args.watch:
                return 0 if with_active(addresses, lambda channel: watch(stubs, channel, metadata, job.id)) == "JOB_STATE_SUCCEEDED" else 1
        elif args.command == "watch":
            return 0 if with_active(addresses, lambda channel: watch(stubs, channel, metadata, args.job_id)) == "JOB_STATE_SUCCEEDED" else 1
        elif args.command == "logs":
            with_active(addresses, lambda channel: logs(stubs, channel, metadata, args.job_id, args.rank, args.attempt, args.follow))
        elif args.command == "artifacts":
            with_active(addresses, lambda channel: artifacts(stubs, channel, metadata, args.job_id))
        elif args.command == "download":
            path, sha256 = with_active(addresses, lambda channel: download(stubs, channel, metadata, args.job_id, args.what, args.out))
            print("%s  %s" % (sha256, path))
        else:
            with_active(addresses, lambda channel: history(stubs, channel, metadata, args.type))
    except ValueError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    except grpc.RpcError as e:
        print("error: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
