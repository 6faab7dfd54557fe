#!/usr/bin/env python3
"""Writes PyTorch's optimiser trajectories and learning-rate schedules as test fixtures.

Each optimiser case starts from the same parameter and applies a fixed sequence of gradients;
the Swift tests apply the same gradients and compare every step. Schedules record the rate
PyTorch's scheduler gives at each step.

    python3 Tools/make_optimizer_fixtures.py   # needs: pip install torch
"""
import json
import math
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "Tests" / "ZooNNTests" / "Fixtures"


def floats(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def optimiser_case(name, make, steps=6):
    g = torch.Generator().manual_seed(0)
    start = torch.randn(7, generator=g)
    grads = [torch.randn(7, generator=g) for _ in range(steps)]
    p = torch.nn.Parameter(start.clone())
    opt = make([p])
    trajectory = []
    for grad in grads:
        p.grad = grad.clone()
        opt.step()
        trajectory.append(floats(p))
    return {"name": name, "start": floats(start), "grads": [floats(x) for x in grads],
            "trajectory": trajectory}


def schedule_case(name, make, steps, base=0.1):
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=base)
    sched = make(opt)
    rates = []
    for _ in range(steps):
        rates.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {"name": name, "base": base, "rates": rates}


def main():
    optim = torch.optim
    cases = [
        optimiser_case("sgd", lambda p: optim.SGD(p, lr=0.1)),
        optimiser_case("sgd_momentum", lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
        optimiser_case("sgd_nesterov_decay",
                       lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-2)),
        optimiser_case("sgd_dampening", lambda p: optim.SGD(p, lr=0.05, momentum=0.8, dampening=0.3)),
        optimiser_case("adam", lambda p: optim.Adam(p, lr=1e-2)),
        optimiser_case("adam_l2", lambda p: optim.Adam(p, lr=1e-2, weight_decay=0.1)),
        optimiser_case("adamw", lambda p: optim.AdamW(p, lr=1e-2, weight_decay=0.1)),
    ]
    sched = optim.lr_scheduler
    schedules = [
        schedule_case("step", lambda o: sched.StepLR(o, step_size=3, gamma=0.5), 10),
        schedule_case("cosine", lambda o: sched.CosineAnnealingLR(o, T_max=8, eta_min=0.001), 9),
        schedule_case("one_cycle", lambda o: sched.OneCycleLR(o, max_lr=0.1, total_steps=20), 20),
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "optimizers.json").write_text(json.dumps({"optimizers": cases, "schedules": schedules}))
    print(f"wrote {OUT / 'optimizers.json'} with torch {torch.__version__}")


if __name__ == "__main__":
    main()
