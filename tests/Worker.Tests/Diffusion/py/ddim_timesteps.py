"""For every DDIM step count S in 1..T, prints CompVis's uniform grid (make_ddim_timesteps) and, where indexing
alphas_cumprod with it works (make_ddim_sampling_parameters), the per-step sigmas for the given eta."""
import json
import sys

import numpy as np
import torch

timesteps, linear_start, linear_end, eta = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
betas = (torch.linspace(linear_start ** 0.5, linear_end ** 0.5, timesteps, dtype=torch.float64) ** 2).numpy()
alphacums = np.cumprod(1.0 - betas, axis=0)

results = []
for steps in range(1, timesteps + 1):
    c = timesteps // steps
    ddim_timesteps = np.asarray(list(range(0, timesteps, c))) + 1
    entry = {"steps": steps, "timesteps": ddim_timesteps.tolist()}
    try:
        alphas = alphacums[ddim_timesteps]
        alphas_prev = np.asarray([alphacums[0]] + alphacums[ddim_timesteps[:-1]].tolist())
        entry["sigmas"] = (eta * np.sqrt((1 - alphas_prev) / (1 - alphas) * (1 - alphas / alphas_prev))).tolist()
    except IndexError as error:
        entry["index_error"] = str(error)
    results.append(entry)
print(json.dumps(results))
