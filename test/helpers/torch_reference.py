"""Reference outputs for the PyTorch-checkpoint conversion tests (run by test/torchWeights.test.ts).

Saves randomly initialised torchvision VGG16 and Inception-v3 state dicts (zip format, plus a
legacy-format VGG16 like torchvision's 2017 vgg16-397923af.pth), random LPIPS lin weights in the
layout of the LPIPS v0.1 vgg.pth, seeded input images, and what torch computes on them: VGG16
relu1_2..relu5_3, Inception-v3 logits, and LPIPS by the reference formula (Zhang et al. 2018).
Every array is raw little-endian float32 in NHWC order, listed in index.json.

usage: python3 torch_reference.py OUT_DIR
"""
import json
import os
import sys

import torch
import torchvision

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(0)
torch.set_num_threads(2)
index = {}


def save_array(name, t):
    t = t.detach().float().contiguous()
    if t.dim() == 4:
        t = t.permute(0, 2, 3, 1).contiguous()  # NCHW -> NHWC, as TF.js
    t.numpy().astype('<f4').tofile(os.path.join(out, name + '.bin'))
    index[name] = list(t.shape)


def nchw(x_nhwc):
    return x_nhwc.permute(0, 3, 1, 2).contiguous()


# VGG16: random biases (torchvision initialises them to 0, which would hide a wrong bias mapping).
vgg = torchvision.models.vgg16(weights=None)
with torch.no_grad():
    for m in vgg.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)):
            m.bias.normal_(0, 0.1)
vgg.eval()
torch.save(vgg.state_dict(), os.path.join(out, 'vgg16.pth'))
# The legacy format (torch < 1.6, torchvision's 2017 VGG16 file), features only to keep the test small.
features_only = {k: v for k, v in vgg.state_dict().items() if k.startswith('features.')}
torch.save(features_only, os.path.join(out, 'vgg16-legacy.pth'), _use_new_zipfile_serialization=False)

# Views that are not contiguous in C order (a transpose, a column slice of a shared storage).
base = torch.arange(24, dtype=torch.float32).view(4, 6)
torch.save({'transposed': base.t(), 'columns': base[:, 1:4]}, os.path.join(out, 'strided.pth'))
index['strided'] = {'transposed': base.t().contiguous().flatten().tolist(), 'columns': base[:, 1:4].contiguous().flatten().tolist()}

# LPIPS lin layers: (1, C, 1, 1) non-negative weights, keys as in LPIPS v0.1 vgg.pth.
channels = [64, 128, 256, 512, 512]
lins = {f'lin{k}.model.1.weight': torch.rand(1, c, 1, 1) for k, c in enumerate(channels)}
torch.save(lins, os.path.join(out, 'lpips-vgg.pth'))

relu_ends = [3, 8, 15, 22, 29]  # relu1_2, relu2_2, relu3_3, relu4_3, relu5_3 in vgg.features
shift = torch.tensor([-0.030, -0.088, -0.188]).view(1, 3, 1, 1)
scale = torch.tensor([0.458, 0.448, 0.450]).view(1, 3, 1, 1)


def vgg_relus(x):
    feats = []
    for i, layer in enumerate(vgg.features):
        x = layer(x)
        if i in relu_ends:
            feats.append(x)
        if i == relu_ends[-1]:
            break
    return feats


def lpips(a01, b01):
    fa = vgg_relus(((a01 * 2 - 1) - shift) / scale)
    fb = vgg_relus(((b01 * 2 - 1) - shift) / scale)
    total = 0
    for k, (x, y) in enumerate(zip(fa, fb)):
        nx = x / (torch.sqrt(torch.sum(x ** 2, dim=1, keepdim=True)) + 1e-10)
        ny = y / (torch.sqrt(torch.sum(y ** 2, dim=1, keepdim=True)) + 1e-10)
        d = (nx - ny) ** 2
        weighted = torch.nn.functional.conv2d(d, lins[f'lin{k}.model.1.weight'])
        total = total + weighted.mean(dim=[2, 3], keepdim=True)
    return total.view(-1)


with torch.no_grad():
    a = torch.rand(3, 64, 64, 3)
    b = (a + 0.2 * torch.randn(3, 64, 64, 3)).clamp(0, 1)
    save_array('vgg_input', nchw(a))
    save_array('lpips_other', nchw(b))
    # The features of the torchvision-normalised input, as the feature net computes them.
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    for k, f in enumerate(vgg_relus((nchw(a) - mean) / std)):
        save_array(f'vgg_relu{k}', f)
    save_array('lpips', lpips(nchw(a), nchw(b)))

# Inception-v3 with aux logits (as the ImageNet checkpoint has them); batch-norm statistics
# calibrated on random images, then random affine parameters, so every BN term is exercised.
inception = torchvision.models.inception_v3(weights=None, aux_logits=True, init_weights=True, transform_input=False)
bns = [m for m in inception.modules() if isinstance(m, torch.nn.BatchNorm2d)]
for m in bns:
    m.reset_running_stats()
    m.momentum = None
inception.train()
with torch.no_grad():
    inception(torch.rand(4, 3, 299, 299) * 2 - 1)
    for m in bns:
        m.weight.uniform_(0.5, 1.5)
        m.bias.normal_(0, 0.1)
    inception.fc.bias.normal_(0, 0.1)
inception.eval()
torch.save(inception.state_dict(), os.path.join(out, 'inception_v3.pth'))
with torch.no_grad():
    x = torch.rand(2, 299, 299, 3)
    save_array('inception_input', nchw(x))
    # The pretrained checkpoint is used with transform_input=True on ImageNet-normalised input,
    # which amounts to the network seeing x * 2 - 1; the converted model takes x in [0, 1].
    save_array('inception_logits', inception(nchw(x) * 2 - 1))

with open(os.path.join(out, 'index.json'), 'w') as f:
    json.dump({'torch': torch.__version__, 'torchvision': torchvision.__version__, 'arrays': index}, f)
