"""Reference Fréchet distance (pytorch-fid's calculate_frechet_distance, scipy.linalg.sqrtm):
python3 frechet_reference.py A.f32 B.f32 DIM -> the distance. Used by test/perceptual.test.ts."""
import sys
import numpy as np
from scipy import linalg

a_file, b_file, dim = sys.argv[1], sys.argv[2], int(sys.argv[3])
a = np.fromfile(a_file, dtype=np.float32).astype(np.float64).reshape(-1, dim)
b = np.fromfile(b_file, dtype=np.float32).astype(np.float64).reshape(-1, dim)
mu1, mu2 = a.mean(0), b.mean(0)
s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
covmean, _ = linalg.sqrtm(s1.dot(s2), disp=False)
if not np.isfinite(covmean).all():
    offset = np.eye(dim) * 1e-6
    covmean = linalg.sqrtm((s1 + offset).dot(s2 + offset))
covmean = covmean.real
diff = mu1 - mu2
print(repr(float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))))
