"""Writes torch.save fixtures and the values Tessera must read back from them.

Run by torch-reference.test.ts with Debian's /usr/bin/python3 (scripts/install-test-deps.sh):
    python3 torch_fixtures.py OUT_DIR
OUT_DIR gets model.pth, half.pth, views.pth, checkpoint.pth, legacy.pth and expected.json,
{file: {tensor name: {"shape", "dtype", "values" (flattened, row-major)}}}.
Values are listed from float32/float64 so JSON holds them exactly.
"""
import json
import os
import sys

import torch

out = sys.argv[1]
torch.manual_seed(0)


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.fc = torch.nn.Linear(4, 2)

    def forward(self, x):
        return self.fc(self.bn(self.conv(x)).mean((2, 3)))


model = Tiny()
model(torch.randn(2, 3, 5, 5))  # one training-mode pass: non-trivial running stats and num_batches_tracked
sd = model.state_dict()

DTYPES = {torch.float32: 'f32', torch.float16: 'f16', torch.bfloat16: 'bf16', torch.float64: 'f64',
          torch.int64: 'i64', torch.int32: 'i32', torch.bool: 'bool', torch.uint8: 'u8'}


def describe(tensors):
    res = {}
    for name, t in tensors.items():
        values = t.detach().contiguous().reshape(-1)
        values = values.double() if t.is_floating_point() else values.long()
        res[name] = {'shape': list(t.shape), 'dtype': DTYPES[t.dtype], 'values': values.tolist()}
    return res


expected = {}

torch.save(sd, os.path.join(out, 'model.pth'))
expected['model.pth'] = describe(sd)

half = {k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}
torch.save(half, os.path.join(out, 'half.pth'))
expected['half.pth'] = describe(half)

base = torch.arange(24, dtype=torch.float32).reshape(4, 6) / 8
views = {
    'base': base,
    'transposed': base.t(),                           # non-contiguous, shares base's storage
    'window': base[1:3, 2:5],                         # storage offset + row stride
    'every_other': base[:, ::2],                      # column stride 2
    'expanded': torch.tensor([1.5, -2.0]).expand(3, 2),  # stride 0
    'bf16': torch.linspace(-3, 3, 7).bfloat16(),
    'f64': torch.tensor([3.141592653589793, -1e-300], dtype=torch.float64),
    'i32': torch.tensor([-5, 7], dtype=torch.int32),
    'i64': torch.tensor([[2 ** 40, -1]], dtype=torch.int64),
    'mask': torch.tensor([True, False, True]),
    'param': torch.nn.Parameter(torch.ones(2, 2)),
}
torch.save(views, os.path.join(out, 'views.pth'))
expected['views.pth'] = describe(views)

opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
model(torch.randn(1, 3, 5, 5)).sum().backward()
opt.step()
torch.save({'epoch': 3, 'state_dict': model.state_dict(), 'optimizer': opt.state_dict()},
           os.path.join(out, 'checkpoint.pth'))
expected['checkpoint.pth'] = describe(model.state_dict())

torch.save(sd, os.path.join(out, 'legacy.pth'), _use_new_zipfile_serialization=False)

with open(os.path.join(out, 'expected.json'), 'w') as f:
    json.dump(expected, f)
print(torch.__version__)
