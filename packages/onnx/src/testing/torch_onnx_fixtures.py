"""Torchvision classifiers exported by torch.onnx.export, with PyTorch's own predictions.

Usage: /usr/bin/python3 torch_onnx_fixtures.py OUT_DIR SIZE [INPUT.bin [NAME,NAME...]]
For each of resnet18, mobilenet_v2 and squeezenet1_1: fixed random weights (torch.manual_seed),
BatchNorm running statistics perturbed away from (0, 1) so that a BatchNorm dropped or misplaced
shows, exported in eval mode (torch folds each BatchNorm into its convolution), opset 13
(torch 1.13's newest stable for these ops), to OUT_DIR/<name>.onnx; with INPUT.bin (float32
NCHW [1, 3, SIZE, SIZE]) also OUT_DIR/<name>.probs.bin, PyTorch's softmax for it (float64).
"""
import sys

import numpy as np
import torch
import torchvision

out, size = sys.argv[1], int(sys.argv[2])
inp = sys.argv[3] if len(sys.argv) > 3 else None
only = sys.argv[4].split(",") if len(sys.argv) > 4 else None
torch.manual_seed(0)
models = {
    "resnet18": torchvision.models.resnet18(num_classes=10),
    "mobilenet_v2": torchvision.models.mobilenet_v2(num_classes=10),
    "squeezenet1_1": torchvision.models.squeezenet1_1(num_classes=10),
}
for name, m in models.items():
    if only and name not in only:
        continue
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.normal_(0, 0.2)
                mod.running_var.uniform_(0.5, 1.5)
                mod.weight.uniform_(0.7, 1.3)
                mod.bias.normal_(0, 0.1)
    m.eval()
    x = torch.zeros(1, 3, size, size)
    torch.onnx.export(
        m, x, f"{out}/{name}.onnx", opset_version=13, input_names=["input"], output_names=["logits"],
        do_constant_folding=False, training=torch.onnx.TrainingMode.EVAL,
    )
    if inp:
        x = torch.from_numpy(np.fromfile(inp, dtype=np.float32).reshape(1, 3, size, size))
        with torch.no_grad():
            p = torch.softmax(m(x).double(), -1)
        p.numpy().astype(np.float64).tofile(f"{out}/{name}.probs.bin")
print("ok")
