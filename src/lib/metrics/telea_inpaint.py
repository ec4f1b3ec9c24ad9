"""Classical baseline: OpenCV's Telea inpainting (cv2.inpaint, INPAINT_TELEA, radius 3) on the
same images and masks as the models. Images: float32 [N,H,W,3] RGB in [0,1]; masks: float32
[N,H,W,1], 1 = observed. Writes the completions as float32 [N,H,W,3].
Usage: python3 telea_inpaint.py IMAGES.f32 MASKS.f32 OUT.f32 N H W"""
import sys
import numpy as np
import cv2

img_path, mask_path, out_path = sys.argv[1:4]
n, h, w = map(int, sys.argv[4:7])
images = np.fromfile(img_path, dtype=np.float32).reshape(n, h, w, 3)
masks = np.fromfile(mask_path, dtype=np.float32).reshape(n, h, w)
out = np.empty_like(images)
for i in range(n):
    bgr = cv2.cvtColor(np.clip(images[i] * 255 + 0.5, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    hole = ((masks[i] < 0.5) * 255).astype(np.uint8)
    filled = cv2.inpaint(bgr, hole, 3, cv2.INPAINT_TELEA)
    out[i] = cv2.cvtColor(filled, cv2.COLOR_BGR2RGB).astype(np.float32) / 255.0
out.tofile(out_path)
print(f"telea: {n} images, OpenCV {cv2.__version__}")
