#!/usr/bin/python3
"""A Python client of the orchestrator, built from proto/ alone.

The gRPC stubs are generated at run time from the repository's .proto files with Debian's python3-grpc-tools
(apt-get install python3-grpcio python3-grpc-tools python3-yaml); nothing is checked in and nothing comes from PyPI.

    spectral_client.py submit examples/pipeline/teacher.yaml --watch   # submit a YAML spec and follow it to the end
    spectral_client.py watch JOB_ID                                   # follow a job
    spectral_client.py history [--type train]                         # run history: runs, final metrics, evaluations
    spectral_client.py logs JOB_ID [--rank N] [--attempt N] [--follow] # a job's log lines, as `orchestrator logs` prints them

The address and key come from --address / --api-key or SD_ORCHESTRATOR / SD_API_KEY, as for the .NET CLI.
"""
import argparse
import importlib
import os
import re
import shutil
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TERMINAL = {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED"}


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
            ("spec_pb2", "jobs_pb2", "jobs_pb2_grpc", "history_pb2", "history_pb2_grpc", "logs_pb2", "logs_pb2_grpc")}


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
                        help="host:port of the orchestrator's gRPC port (env SD_ORCHESTRATOR; http:// is accepted and dropped)")
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
    read_logs = commands.add_parser("logs", help="print a job's log lines (every rank, or one)")
    read_logs.add_argument("job_id")
    read_logs.add_argument("--rank", type=int, default=None, help="only this rank's lines")
    read_logs.add_argument("--attempt", type=int, default=None, help="only this attempt's lines (default: every attempt)")
    read_logs.add_argument("--follow", action="store_true", help="keep printing new lines until the job ends")
    args = parser.parse_args(argv)

    import grpc

    stubs = generate_stubs(args.proto_root)
    address = re.sub(r"^https?://", "", args.address)
    metadata = [("x-api-key", args.api_key)] if args.api_key else []
    with grpc.insecure_channel(address) as channel:
        try:
            if args.command == "submit":
                spec = load_spec(stubs, args.spec, args.set)
                job = stubs["jobs_pb2_grpc"].JobsStub(channel).Submit(stubs["jobs_pb2"].SubmitJobRequest(spec=spec), metadata=metadata)
                print(job.id, flush=True)
                if args.watch:
                    return 0 if watch(stubs, channel, metadata, job.id) == "JOB_STATE_SUCCEEDED" else 1
            elif args.command == "watch":
                return 0 if watch(stubs, channel, metadata, args.job_id) == "JOB_STATE_SUCCEEDED" else 1
            elif args.command == "logs":
                logs(stubs, channel, metadata, args.job_id, args.rank, args.attempt, args.follow)
            else:
                history(stubs, channel, metadata, args.type)
        except grpc.RpcError as e:
            print("error: %s: %s" % (e.code().name, e.details()), file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
