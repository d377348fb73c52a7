"""The PyTorch side of the first-stage benchmark: times the encoder (quant_conv(encoder(x))) of the CompVis modules
on the weights the benchmark wrote, at batch B of 3x256x256, and prints one JSON line {"seconds": [...]}.

usage: first_stage_encode.py CONFIG WEIGHTS BATCH SIZE BATCHES THREADS
"""
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "Worker.Tests", "FirstStage", "py"))
import torch  # noqa: E402
from first_stage_reference import CONFIGS, Autoencoder  # noqa: E402


def main():
    name, weights, batch, size, batches, threads = sys.argv[1:]
    torch.set_num_threads(int(threads))
    model = Autoencoder(**CONFIGS[name])
    model.load_state_dict(torch.load(weights), strict=True)
    model.eval()
    x = torch.rand(int(batch), 3, int(size), int(size)) * 2 - 1
    seconds = []
    with torch.no_grad():
        model.quant_conv(model.encoder(x))   # warm-up
        for _ in range(int(batches)):
            start = time.perf_counter()
            model.quant_conv(model.encoder(x))
            seconds.append(time.perf_counter() - start)
    print(json.dumps({"seconds": seconds, "torch": torch.__version__, "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
