"""Runs torch.optim on parameters and gradients given by optim.test.ts, for comparison.

Run with Debian's /usr/bin/python3 (torch 1.13):
    python3 torch_optim.py PROBLEM.json OUT.json
PROBLEM.json: {"params": [{"shape": [...], "data": [...], "group": g}], "grads": [[[...] per param] per step],
               "runs": [{"name", "optim": "sgd" | "adamw", "groups": [{"lr", ...hyper}], "lrScale": [per step],
                         "noDecayRank1": bool}]}
Each Tessera group becomes one torch group, split in two when rank-1 parameters (BatchNorm, biases)
get no weight decay. lrScale[s] multiplies every group's lr before step s (a schedule).
OUT.json: {run name: [final values per param]}. Prints torch's version.
"""
import json
import sys

import torch

problem = json.load(open(sys.argv[1]))
torch.set_default_dtype(torch.float32)
out = {}
for run in problem['runs']:
    params = [torch.tensor(p['data'], dtype=torch.float32).reshape(p['shape']).requires_grad_() for p in problem['params']]
    groups = []
    for gi, hyper in enumerate(run['groups']):
        members = [(q, spec) for q, spec in zip(params, problem['params']) if spec['group'] == gi]
        decay = [q for q, spec in members if not (run['noDecayRank1'] and len(spec['shape']) == 1)]
        no_decay = [q for q, spec in members if run['noDecayRank1'] and len(spec['shape']) == 1]
        for ps, wd in ((decay, hyper['wd']), (no_decay, 0.0)):
            if not ps:
                continue
            if run['optim'] == 'sgd':
                groups.append({'params': ps, 'lr': hyper['lr'], 'momentum': hyper['mom'], 'nesterov': hyper['nesterov'],
                               'weight_decay': wd, 'base_lr': hyper['lr']})
            else:
                groups.append({'params': ps, 'lr': hyper['lr'], 'betas': (hyper['mom'], hyper['sqrMom']), 'eps': hyper['eps'],
                               'weight_decay': wd, 'base_lr': hyper['lr']})
    opt = torch.optim.SGD(groups, lr=0.0) if run['optim'] == 'sgd' else torch.optim.AdamW(groups, lr=0.0)
    for step, grads in enumerate(problem['grads']):
        for g in opt.param_groups:
            g['lr'] = g['base_lr'] * run['lrScale'][step]
        for q, gr in zip(params, grads):
            q.grad = torch.tensor(gr, dtype=torch.float32).reshape(q.shape)
        opt.step()
    out[run['name']] = [q.detach().reshape(-1).double().tolist() for q in params]
json.dump(out, open(sys.argv[2], 'w'))
print(torch.__version__)
