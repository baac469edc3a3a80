#!/usr/bin/env python3
"""The same benchmark as `nearcaipi bench`, in PyTorch, for comparison on the same machine.

Needs PyTorch on the developer's machine only (`pip install torch`). Prints one JSON object
shaped like `nearcaipi bench --json`'s "models" part. Same networks (ResNet-18 topology,
widths 16-32-64-128 at 128x128 and 64-128-256-512 at 224x224, RGB, 2 classes), 2 threads,
channels_last, training batch 16 with SGD momentum 0.9, inference batch 32 under no_grad.
"""
import json
import sys
import time

import torch

sys.path.insert(0, __file__.rsplit("/", 3)[0] + "/Tests/NeuralNetTests/Fixtures")
from make_reference import ResNet  # noqa: E402  (the network definition, not the fixture writer)

torch.set_num_threads(2)


def best_time(step, seconds):
    step()
    best, start = float("inf"), time.perf_counter()
    while True:
        t = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t)
        if time.perf_counter() - start > seconds:
            return best


def measure(widths, size, seconds=3.0):
    model = ResNet(widths, 3, 2).to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    x16 = torch.rand(16, 3, size, size).to(memory_format=torch.channels_last)
    y16 = torch.arange(16) % 2
    loss_fn = torch.nn.CrossEntropyLoss()

    def train_step():
        optimizer.zero_grad()
        loss_fn(model(x16)[0], y16).backward()
        optimizer.step()

    model.train()
    train = 16 / best_time(train_step, seconds)
    model.eval()
    x32 = torch.rand(32, 3, size, size).to(memory_format=torch.channels_last)
    with torch.no_grad():
        infer = 32 / best_time(lambda: model(x32), seconds)
    # 1000 masked copies of one image through the network in batches of 100 (InvRISE's work).
    image = torch.rand(1, 3, size, size)
    masks = torch.rand(100, 1, size, size)
    with torch.no_grad():
        model((image * masks).to(memory_format=torch.channels_last))
        start = time.perf_counter()
        for _ in range(10):
            torch.softmax(model((image * masks).to(memory_format=torch.channels_last))[0], dim=1)
        invrise = time.perf_counter() - start
    return {"train_img_s": round(train, 2), "infer_img_s": round(infer, 2), "invrise_1000_s": round(invrise, 3)}


print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                  "models": {"resnet18-w4@128": measure([16, 32, 64, 128], 128),
                             "resnet18@224": measure([64, 128, 256, 512], 224)}}))
