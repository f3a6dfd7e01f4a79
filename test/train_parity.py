"""PyTorch twin of test/train-parity.test.ts.

Trains the same network as Tessera — Tiny Darknet's body with fastai's head (dropout 0)
— from Tessera's initial weights, on the same batches, with fastai's Adam and
fit_one_cycle written out here from fastai's source (fastai/optimizer.py: weight_decay,
average_grad(dampening=True), average_sqr_grad, step_stat, adam_step;
fastai/callback/schedule.py: combine_scheds, combined_cos, fit_one_cycle; the
TrainEvalCallback's pct_train), since fastai itself is not installed.

usage: train_parity.py DIR   (DIR holds config.json, init.safetensors, x.f32, y.i32;
                              writes DIR/out.json, DIR/{early,final}{,64}.safetensors)
The run Tessera is compared with is in float32, like Tessera; the same run in float64
measures how far float32 rounding alone moves the trajectory. One thread, so the run is
repeatable and leaves a core to Tessera.
"""
import json
import math
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
DIR = sys.argv[1]
cfg = json.load(open(f"{DIR}/config.json"))

# ------------------------------------------------------------------ safetensors
DT = {"F32": (torch.float32, 4), "I64": (torch.int64, 8), "I32": (torch.int32, 4)}


def read_safetensors(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    base = 8 + n
    out = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        dtype, _ = DT[v["dtype"]]
        a, b = v["data_offsets"]
        out[k] = torch.frombuffer(bytearray(raw[base + a : base + b]), dtype=dtype).reshape(v["shape"]).clone()
    return out


def write_safetensors(path, tensors):
    names = {torch.float32: "F32", torch.float64: "F64", torch.int64: "I64"}
    header, blobs, off = {}, [], 0
    for k, t in tensors.items():
        b = t.detach().contiguous().numpy().tobytes()
        header[k] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


# ------------------------------------------------------------------ the network
class AdaptiveConcatPool2d(nn.Module):
    """fastai's: max pool then average pool, concatenated on channels."""

    def forward(self, x):
        return torch.cat([F.adaptive_max_pool2d(x, 1), F.adaptive_avg_pool2d(x, 1)], 1)


def darknet_body():
    layers, in_c = [], 3
    for l in cfg["layout"]:
        if l == "M":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        f, k = l
        layers += [nn.Conv2d(in_c, f, k, padding=(k - 1) // 2, bias=False), nn.BatchNorm2d(f, eps=1e-3, momentum=0.1), nn.LeakyReLU(0.1)]
        in_c = f
    return nn.Sequential(*layers), in_c


def vision_model():
    body, nf = darknet_body()
    hidden, ncls = cfg["hidden"], cfg["classes"]
    head = nn.Sequential(
        AdaptiveConcatPool2d(), nn.Flatten(),
        nn.BatchNorm1d(2 * nf), nn.Dropout(0.0), nn.Linear(2 * nf, hidden, bias=False), nn.ReLU(),
        nn.BatchNorm1d(hidden), nn.Dropout(0.0), nn.Linear(hidden, ncls, bias=False),
    )
    return nn.Sequential(body, head)

# ------------------------------------------------------------------ the data
n_batches, bs, size = cfg["batches"], cfg["bs"], cfg["size"]
xs = torch.frombuffer(bytearray(open(f"{DIR}/x.f32", "rb").read()), dtype=torch.float32).reshape(n_batches, bs, size, size, 3)
xs = xs.permute(0, 1, 4, 2, 3).contiguous()  # Tessera is NHWC, PyTorch NCHW
ys = torch.frombuffer(bytearray(open(f"{DIR}/y.i32", "rb").read()), dtype=torch.int32).reshape(n_batches, bs).long()


# ------------------------------------------------------------------ fastai's one-cycle
def sched_cos(start, end, pos):
    return start + (1 + math.cos(math.pi * (1 - pos))) * (end - start) / 2


def combine_scheds(pcts, scheds):
    pcts = torch.cumsum(torch.tensor([0] + list(pcts)), 0)  # float32, as in fastai
    pct_lim = len(pcts) - 2

    def inner(pos):
        idx = min((pos >= pcts).nonzero().max(), pct_lim)
        actual = (pos - pcts[idx]) / (pcts[idx + 1] - pcts[idx])
        return scheds[idx](actual.item())

    return inner


def combined_cos(pct, start, middle, end):
    return combine_scheds([pct, 1 - pct], [lambda p: sched_cos(start, middle, p), lambda p: sched_cos(middle, end, p)])


lr_max, div, div_final, pct_start = cfg["lrMax"], 25.0, 1e5, 0.25
sched_lr = combined_cos(pct_start, lr_max / div, lr_max, lr_max / div_final)
sched_mom = combined_cos(pct_start, 0.95, 0.85, 0.95)

# ------------------------------------------------------------------ fastai's Adam
sqr_mom, eps, wd = 0.99, 1e-5, cfg["wd"]


def debias(mom, damp, step):
    return damp * (1 - mom**step) / (1 - mom)


class FastaiAdam:
    """fastai's Adam(decouple_wd=True) as its callbacks run, one parameter at a time."""

    def __init__(self, params):
        self.params = list(params)
        # fastai's Learner (wd_bn_bias=False) sets do_wd=False on BatchNorm parameters and
        # biases: here, exactly the rank-1 parameters.
        self.state = {p: {"grad_avg": torch.zeros_like(p), "sqr_avg": torch.zeros_like(p), "step": 0, "do_wd": p.ndim != 1} for p in self.params}

    @torch.no_grad()
    def step(self, lr, mom):
        for p in self.params:
            if p.grad is None:
                continue
            s = self.state[p]
            if s["do_wd"] and wd != 0:
                p.mul_(1 - lr * wd)  # weight_decay
            s["grad_avg"].mul_(mom).add_(p.grad, alpha=1 - mom)  # average_grad(dampening=True)
            s["sqr_avg"].mul_(sqr_mom).addcmul_(p.grad, p.grad, value=1 - sqr_mom)  # average_sqr_grad
            s["step"] += 1  # step_stat
            d1 = debias(mom, 1 - mom, s["step"])
            d2 = debias(sqr_mom, 1 - sqr_mom, s["step"])
            p.addcdiv_(s["grad_avg"], (s["sqr_avg"] / d2).sqrt() + eps, value=-lr / d1)  # adam_step


# ------------------------------------------------------------------ the loop
def train(dtype, tag):
    """fit_one_cycle(epochs, lrMax) over the fixed batches; returns the model and per-step records.
    Writes the state after cfg["snapshotAfter"] steps to DIR/early{tag}.safetensors."""
    model = vision_model()
    model.load_state_dict(init, strict=True)
    model.to(dtype).train()
    opt = FastaiAdam(model.parameters())
    n_epoch = cfg["epochs"]
    pct_train, losses, lrs, moms = 0.0, [], [], []
    for _ in range(n_epoch):
        for i in range(n_batches):
            lr, mom = sched_lr(pct_train), sched_mom(pct_train)  # ParamScheduler.before_batch
            loss = F.cross_entropy(model(xs[i].to(dtype)), ys[i])
            loss.backward()
            opt.step(lr, mom)
            model.zero_grad(set_to_none=False)  # fastai's zero_grad zeroes in place
            losses.append(loss.item())
            if len(losses) == cfg["snapshotAfter"]:
                write_safetensors(f"{DIR}/early{tag}.safetensors", model.state_dict())
            lrs.append(lr)
            moms.append(mom)
            pct_train += 1.0 / (n_batches * n_epoch)  # TrainEvalCallback.after_batch
    return model, losses, lrs, moms


init = read_safetensors(f"{DIR}/init.safetensors")
model, losses, lrs, moms = train(torch.float32, "")
write_safetensors(f"{DIR}/final.safetensors", model.state_dict())
# The same run in float64: how far float32 rounding alone moves this trajectory (the floor
# that any float32 engine, PyTorch included, can be expected to reach).
model64, losses64, _, _ = train(torch.float64, "64")
write_safetensors(f"{DIR}/final64.safetensors", model64.state_dict())
json.dump({"torch": torch.__version__, "losses": losses, "losses64": losses64, "lrs": lrs, "moms": moms}, open(f"{DIR}/out.json", "w"))
