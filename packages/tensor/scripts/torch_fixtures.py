#!/usr/bin/python3
"""PyTorch reference outputs and gradients for Tessera's nn ops.

Usage: torch_fixtures.py DIR

DIR/manifest.json (written by packages/tensor/test-fixtures/torch-bridge.ts):
  {"cases": [{"id", "op", "params", "inputs": {name: {"file", "shape", "dtype"}}, "grad": {...} | null}]}
Inputs are raw little-endian f32 ("f32") or i32 ("i32") files in Tessera's layout:
4-D activations are NHWC. Every op runs in float64 on PyTorch's NCHW layout (this
script converts both ways), then backward with the given upstream gradient.
Writes DIR/results.json {id: {name: {"file", "shape"}}} and raw little-endian f64
files: the output "y", the gradients "grad_<input>", and per-op extras (BN running
stats after the update, max-pool argmax indices, the fastai-formula loss). Batch norm's
params may name a fused activation ("activation": "relu" | "leaky", with "slope") and a
residual ("residual": true, the input "residual" of x's shape, added before the activation).
The op "elementwise" runs one of ELEMENTWISE (params "fn", scalar "p0"/"p1", and "axis"
for reductions) in float32, as Tessera computes, so edge values (NaN, ±Inf, -0, overflow)
compare as they fall in f32; the inputs are "a" (and "b").
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(2)


def load(d, spec):
    dt = np.float32 if spec["dtype"] == "f32" else np.int32
    a = np.fromfile(os.path.join(d, spec["file"]), dtype="<" + ("f4" if dt == np.float32 else "i4"))
    a = a.reshape(spec["shape"]) if spec["shape"] else a.reshape(())
    t = torch.from_numpy(a.copy())
    return t.double() if dt == np.float32 else t.long()


def nchw(t):
    return t.permute(0, 3, 1, 2)


def nhwc(t):
    return t.permute(0, 2, 3, 1).contiguous()


# Tessera's elementwise ops and reductions as PyTorch spells them: fn(a, b, params).
ELEMENTWISE = {
    "neg": lambda a, b, p: -a,
    "exp": lambda a, b, p: torch.exp(a),
    "log": lambda a, b, p: torch.log(a),
    "sqrt": lambda a, b, p: torch.sqrt(a),
    "rsqrt": lambda a, b, p: torch.rsqrt(a),
    "abs": lambda a, b, p: torch.abs(a),
    "relu": lambda a, b, p: F.relu(a),
    "leakyRelu": lambda a, b, p: F.leaky_relu(a, p["p0"]),
    "sigmoid": lambda a, b, p: torch.sigmoid(a),
    "tanh": lambda a, b, p: torch.tanh(a),
    "powScalar": lambda a, b, p: torch.pow(a, p["p0"]),
    "addScalar": lambda a, b, p: a + p["p0"],
    "mulScalar": lambda a, b, p: a * p["p0"],
    "rsubScalar": lambda a, b, p: p["p0"] - a,
    "rdivScalar": lambda a, b, p: p["p0"] / a,
    "clamp": lambda a, b, p: torch.clamp(a, p["p0"], p["p1"]),
    "add": lambda a, b, p: a + b,
    "sub": lambda a, b, p: a - b,
    "mul": lambda a, b, p: a * b,
    "div": lambda a, b, p: a / b,
    "maximum": lambda a, b, p: torch.maximum(a, b),
    "minimum": lambda a, b, p: torch.minimum(a, b),
    "pow": lambda a, b, p: torch.pow(a, b),
    "eq": lambda a, b, p: a == b,
    "ne": lambda a, b, p: a != b,
    "lt": lambda a, b, p: a < b,
    "le": lambda a, b, p: a <= b,
    "gt": lambda a, b, p: a > b,
    "ge": lambda a, b, p: a >= b,
    # Reductions over one axis, or all of them ("axis": None). max/min: the values
    # (torch.max(x) / torch.max(x, dim).values, whose gradients go to NaNs where there are any).
    "sum": lambda a, b, p: a.sum() if p.get("axis") is None else a.sum(p["axis"]),
    "mean": lambda a, b, p: a.mean() if p.get("axis") is None else a.mean(p["axis"]),
    "max": lambda a, b, p: a.max() if p.get("axis") is None else a.max(p["axis"]).values,
    "min": lambda a, b, p: a.min() if p.get("axis") is None else a.min(p["axis"]).values,
    "argmax": lambda a, b, p: a.argmax() if p.get("axis") is None else a.argmax(p["axis"]),
    "argmin": lambda a, b, p: a.argmin() if p.get("axis") is None else a.argmin(p["axis"]),
    "softmax": lambda a, b, p: F.softmax(a, dim=p["axis"]),
    "logSoftmax": lambda a, b, p: F.log_softmax(a, dim=p["axis"]),
}


def run_case(c, d):
    op, p = c["op"], c["params"]
    ins = {k: load(d, v) for k, v in c["inputs"].items()}
    g = load(d, c["grad"]) if c["grad"] else None
    leaves = {}
    for k, t in ins.items():
        if t.dtype == torch.float64 and k not in ("runningMean", "runningVar"):
            t.requires_grad_(True)
            leaves[k] = t
    out = {}

    if op in ("batchNorm2d", "batchNorm1d"):
        x = ins["x"]
        xin = nchw(x) if op == "batchNorm2d" else x
        rm = ins.get("runningMean")
        rv = ins.get("runningVar")
        y = F.batch_norm(xin, rm, rv, ins.get("weight"), ins.get("bias"),
                         training=bool(p["training"]), momentum=p.get("momentum", 0.1), eps=p.get("eps", 1e-5))
        # The fused residual, then the activation (Tessera's residual and activation options).
        if p.get("residual"):
            r = ins["residual"]
            y = y + (nchw(r) if op == "batchNorm2d" else r)
        act = p.get("activation", "none")
        if act == "relu":
            y = F.relu(y)
        elif act == "leaky":
            y = F.leaky_relu(y, p["slope"])
        elif act != "none":
            raise SystemExit(f"torch_fixtures.py: unknown batch-norm activation {act}")
        # Tessera's batchNormMaxPool2d: a 2×2/2 max-pool after the activation.
        if p.get("pool"):
            y = F.max_pool2d(y, 2, 2)
        y = nhwc(y) if op == "batchNorm2d" else y
        if rm is not None:
            out["runningMean"] = rm.detach()
            out["runningVar"] = rv.detach()
    elif op == "conv2d":
        # Tessera's weights are OHWI; PyTorch's OIHW.
        w = ins["w"].permute(0, 3, 1, 2)
        y = nhwc(F.conv2d(nchw(ins["x"]), w, ins.get("b"), stride=p["stride"], padding=p["padding"],
                          dilation=p["dilation"], groups=p["groups"]))
    elif op == "linear":
        y = F.linear(ins["x"], ins["w"], ins.get("b"))
    elif op == "maxPool2d":
        y, idx = F.max_pool2d(nchw(ins["x"]), p["kernel"], p["stride"], p["padding"], return_indices=True)
        y = nhwc(y)
        out["indices"] = nhwc(idx).double()
    elif op == "avgPool2d":
        y = nhwc(F.avg_pool2d(nchw(ins["x"]), p["kernel"], p["stride"], p["padding"],
                              count_include_pad=p.get("countIncludePad", True)))
    elif op == "adaptiveAvgPool2d":
        y = nhwc(F.adaptive_avg_pool2d(nchw(ins["x"]), p["out"]))
    elif op == "adaptiveMaxPool2d":
        y, idx = F.adaptive_max_pool2d(nchw(ins["x"]), p["out"], return_indices=True)
        y = nhwc(y)
        out["indices"] = nhwc(idx).double()
    elif op == "softmaxCrossEntropy":
        z, labels = ins["logits"], ins["labels"]
        red, eps = p.get("reduction", "mean"), p.get("labelSmoothing", 0.0)
        y = F.cross_entropy(z, labels, reduction=red, label_smoothing=eps)
        # fastai's LabelSmoothingCrossEntropy, written out, as an independent check.
        with torch.no_grad():
            lp = F.log_softmax(z, dim=1)
            C = z.shape[1]
            if red == "sum":
                smooth = -lp.sum()
            else:
                smooth = -lp.sum(dim=1)
                if red == "mean":
                    smooth = smooth.mean()
            out["fastai"] = smooth * eps / C + (1 - eps) * F.nll_loss(lp, labels, reduction=red)
    elif op == "elementwise":
        fn = ELEMENTWISE.get(p["fn"])
        if fn is None:
            raise SystemExit(f"torch_fixtures.py: unknown elementwise fn {p['fn']}")
        f32 = {k: t.float() for k, t in ins.items()}
        y = fn(f32["a"], f32.get("b"), p)
        if not y.is_floating_point():
            y = y.double()
    else:
        raise SystemExit(f"torch_fixtures.py: unknown op {op}")

    out["y"] = y.detach()
    if g is not None:
        y.backward(g.reshape(y.shape).to(y.dtype))
        for k, t in leaves.items():
            out["grad_" + k] = t.grad if t.grad is not None else torch.zeros_like(t)
    return out


def main():
    d = sys.argv[1]
    with open(os.path.join(d, "manifest.json")) as f:
        manifest = json.load(f)
    results = {}
    for c in manifest["cases"]:
        named = {}
        for name, t in run_case(c, d).items():
            t = t.detach().double().contiguous()
            file = f"out_{len(results)}_{name}.bin"
            t.numpy().astype("<f8").tofile(os.path.join(d, file))
            named[name] = {"file": file, "shape": list(t.shape)}
        results[c["id"]] = named
    with open(os.path.join(d, "results.json"), "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main()
