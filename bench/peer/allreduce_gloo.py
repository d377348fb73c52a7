#!/usr/bin/env python3
"""One rank of PyTorch's gloo all-reduce (on loopback, or across simulated nodes with --master-addr), timed exactly like the C# ranks of `allreduce`
(bench/Benchmarks/AllReduceBenchmark.cs): for each size a barrier, then one all_reduce, best of N iterations after
one warm-up; rank 0 prints "BYTES SECONDS" per size. One torch thread per rank."""
import argparse
import time

import torch
import torch.distributed as dist


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rank", type=int, required=True)
    parser.add_argument("--world", type=int, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--sizes-mb", required=True)
    parser.add_argument("--master-addr", default="127.0.0.1", help="rank 0's address (ranks on other nodes: bench/cross-node.sh)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://{args.master_addr}:{args.port}", rank=args.rank, world_size=args.world)
    for megabytes in (int(s) for s in args.sizes_mb.split(",")):
        size = megabytes << 20
        tensor = torch.ones(size // 4)
        iterations = max(3, min(50, (512 << 20) // size))
        best = float("inf")
        for i in range(iterations + 1):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(tensor)
            elapsed = time.perf_counter() - start
            if i > 0:
                best = min(best, elapsed)
        if args.rank == 0:
            print(f"{size} {best:.9f}", flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
