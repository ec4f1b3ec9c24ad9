"""Reference SSIM with scikit-image (Wang et al. 2004 settings) for the agreement test.
Usage: python3 ssim_reference.py A.f32 B.f32 N H W C  -> one SSIM per line."""
import sys
import numpy as np
from skimage.metrics import structural_similarity

a_path, b_path, n, h, w, c = sys.argv[1], sys.argv[2], *map(int, sys.argv[3:7])
a = np.fromfile(a_path, dtype=np.float32).reshape(n, h, w, c).astype(np.float64)
b = np.fromfile(b_path, dtype=np.float32).reshape(n, h, w, c).astype(np.float64)
for i in range(n):
    s = structural_similarity(a[i], b[i], gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, channel_axis=-1)
    print(f"{s:.10f}")
