"""Writes torchvision ResNet fixtures and PyTorch's logits for them.

Run by models/resnet.test.ts with Debian's /usr/bin/python3 (torch 1.13, torchvision 0.14):
    python3 torchvision_fixtures.py OUT_DIR [--size S] [--batch B] [--half ARCH] ARCH...
For each ARCH (resnet18, resnet34, resnet50), OUT_DIR gets:
  ARCH.pth          torch.save(model.state_dict()) of a random-init model (seeded), whose
                    BatchNorm layers have non-trivial running statistics and affine parameters
  ARCH.logits.f32   the eval-mode logits on input.f32, raw little-endian float32 [B, 1000]
and, with --half ARCH, ARCH-half.pth saved from model.half().state_dict() and
ARCH-half.logits.f32: the logits of the float32 model carrying the half-rounded weights.
input.f32 is the shared input, raw float32 in NHWC order ([B, S, S, 3]; PyTorch ran on its
NCHW permutation). meta.json: {arch: {"keys": [...state_dict order...], "numParams": n}}.
Prints torch's version.
"""
import argparse
import json
import os

import torch
import torchvision

p = argparse.ArgumentParser()
p.add_argument('out')
p.add_argument('archs', nargs='+')
p.add_argument('--size', type=int, default=64)
p.add_argument('--batch', type=int, default=2)
p.add_argument('--half', action='append', default=[])
args = p.parse_args()

torch.set_num_threads(1)
torch.manual_seed(1234)
x = torch.randn(args.batch, 3, args.size, args.size)
x.permute(0, 2, 3, 1).contiguous().numpy().astype('<f4').tofile(os.path.join(args.out, 'input.f32'))


def randomise_batchnorm(model, seed):
    """Gives every BatchNorm real statistics: a few train-mode passes with a cumulative average,
    then perturbed stats and affine parameters, so eval-mode BN is far from the identity."""
    g = torch.Generator().manual_seed(seed)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.momentum = None  # cumulative average over the passes below
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(4, 3, args.size, args.size, generator=g))
        for m in bns:
            n = m.num_features
            m.running_mean.add_(0.1 * torch.randn(n, generator=g) * m.running_var.sqrt())
            m.running_var.mul_(0.7 + 0.6 * torch.rand(n, generator=g))
            m.weight.copy_(1 + 0.2 * torch.randn(n, generator=g))
            m.bias.copy_(0.1 * torch.randn(n, generator=g))
            m.momentum = 0.1
    model.eval()


def logits(model, path):
    with torch.no_grad():
        y = model.eval()(x)
    y.contiguous().numpy().astype('<f4').tofile(path)


meta = {}
for i, arch in enumerate(args.archs):
    torch.manual_seed(100 + i)
    model = getattr(torchvision.models, arch)()
    randomise_batchnorm(model, 200 + i)
    sd = model.state_dict()
    torch.save(sd, os.path.join(args.out, f'{arch}.pth'))
    logits(model, os.path.join(args.out, f'{arch}.logits.f32'))
    meta[arch] = {'keys': list(sd.keys()), 'numParams': sum(q.numel() for q in model.parameters())}
    if arch in args.half:
        half = model.half().state_dict()
        torch.save(half, os.path.join(args.out, f'{arch}-half.pth'))
        logits(model.float(), os.path.join(args.out, f'{arch}-half.logits.f32'))

with open(os.path.join(args.out, 'meta.json'), 'w') as f:
    json.dump(meta, f)
print(torch.__version__)
