"""Prints LDM's linear schedule the way CompVis ddpm.py register_schedule computes it (torch float64 linspace, numpy cumprod)."""
import json
import sys

import numpy as np
import torch

timesteps, linear_start, linear_end = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
betas = (torch.linspace(linear_start ** 0.5, linear_end ** 0.5, timesteps, dtype=torch.float64) ** 2).numpy()
alphas_cumprod = np.cumprod(1.0 - betas, axis=0)
alphas_cumprod_prev = np.append(1.0, alphas_cumprod[:-1])
posterior_variance = betas * (1.0 - alphas_cumprod_prev) / (1.0 - alphas_cumprod)
print(json.dumps({"betas": betas.tolist(), "alphas_cumprod": alphas_cumprod.tolist(), "posterior_variance": posterior_variance.tolist()}))
