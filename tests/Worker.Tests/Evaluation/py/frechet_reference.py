"""pytorch-fid's calculate_frechet_distance (scipy.linalg.sqrtm) for statistics given as JSON on stdin."""
import json
import sys

import numpy as np
from scipy import linalg

stats = json.load(sys.stdin)
mu1, mu2 = np.array(stats["mu1"]), np.array(stats["mu2"])
sigma1, sigma2 = np.array(stats["sigma1"]), np.array(stats["sigma2"])
covmean, _ = linalg.sqrtm(sigma1.dot(sigma2), disp=False)
covmean = covmean.real
diff = mu1 - mu2
print(repr(float(diff.dot(diff) + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))))
