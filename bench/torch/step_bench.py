"""PyTorch CPU reference for `pnpm bench --model`: the same training / eval step as
Tessera's (forward, cross-entropy, backward, Adam step; train-mode BatchNorm), on
random data, with torch.set_num_threads(<cores>). Prints one JSON object per case.

usage: python3 step_bench.py --model resnet34 --size 128 --batch 16 --threads 2
                             --steps 3 --modes train,eval
"""
import argparse
import json
import os
import time

import torch
import torch.nn as nn
import torchvision


def darknet_tiny(num_classes=1000):
    # Same layout as packages/nn/src/models/darknet.ts.
    layout = [[16, 3], 'M', [32, 3], 'M', [16, 1], [128, 3], [16, 1], [128, 3], 'M',
              [32, 1], [256, 3], [32, 1], [256, 3], 'M', [64, 1], [512, 3], [64, 1], [512, 3], [128, 1]]
    layers, c = [], 3
    for l in layout:
        if l == 'M':
            layers.append(nn.MaxPool2d(2, 2))
            continue
        f, k = l
        layers += [nn.Conv2d(c, f, k, padding=(k - 1) // 2, bias=False), nn.BatchNorm2d(f, eps=1e-3), nn.LeakyReLU(0.1)]
        c = f
    return nn.Sequential(*layers, nn.Conv2d(c, num_classes, 1), nn.AdaptiveAvgPool2d(1), nn.Flatten())


def build(name):
    if name == 'darknet-tiny':
        return darknet_tiny()
    return getattr(torchvision.models, name)()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', required=True)
    ap.add_argument('--size', type=int, required=True)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--steps', type=int, default=3)
    ap.add_argument('--modes', default='train,eval')
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = build(a.model)
    x = torch.randn(a.batch, 3, a.size, a.size)
    y = torch.randint(0, 1000, (a.batch,))
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    loss_fn = nn.CrossEntropyLoss()

    def train_step():
        model.train()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss.item()

    def eval_step():
        model.eval()
        with torch.no_grad():
            return model(x)[0, 0].item()

    for mode in a.modes.split(','):
        step = train_step if mode == 'train' else eval_step
        step()  # warm-up
        times = []
        for _ in range(a.steps):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        times.sort()
        ms = times[len(times) // 2] * 1000
        print(json.dumps({'model': a.model, 'mode': mode, 'size': a.size, 'batch': a.batch, 'threads': a.threads,
                          'step_ms': ms, 'imgs_per_s': a.batch * 1000 / ms, 'torch': torch.__version__}), flush=True)


if __name__ == '__main__':
    main()
