#!/usr/bin/env python3
"""Writes the PyTorch reference of NeuralNetTests' cross-framework check. Run from this folder.

Needs PyTorch (`pip install torch`) on the developer's machine only; the tests read the
committed outputs:
  resnet18w4_reference.safetensors  weights of a resnet18-w4 (3 x 128 x 128 input, 2 classes)
                                    in NearCAIPI's checkpoint format (torchvision names)
  resnet18w4_io.safetensors         4 fixed inputs, and PyTorch's eval-mode logits and
                                    embeddings for them
"""
import json
import struct
import zlib

import torch
from torch import nn


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.downsample is None else self.downsample(x)))


class ResNet(nn.Module):
    def __init__(self, widths, channels, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, widths[0], 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        cin = widths[0]
        for i, w in enumerate(widths):
            blocks = [BasicBlock(cin, w, 1 if i == 0 else 2), BasicBlock(w, w, 1)]
            setattr(self, f"layer{i + 1}", nn.Sequential(*blocks))
            cin = w
        self.fc = nn.Linear(cin, classes)

    def forward(self, x):
        x = self.maxpool(torch.relu(self.bn1(self.conv1(x))))
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
        embedding = x.mean(dim=(2, 3))
        return self.fc(embedding), embedding


def write_safetensors(path, tensors, metadata):
    header, data = {}, bytearray()
    for name, t in tensors.items():
        t = t.contiguous()
        raw = t.numpy().tobytes() if t.dtype != torch.int64 else struct.pack("<q", int(t))
        dtype = "F32" if t.dtype == torch.float32 else "I64"
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    meta = dict(metadata)
    if metadata:
        meta["data_crc32"] = format(zlib.crc32(bytes(data)) & 0xFFFFFFFF, "x")
    header["__metadata__"] = meta
    blob = json.dumps(header, sort_keys=True).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)) + blob + bytes(data))


def main():
    torch.manual_seed(7)
    widths = [16, 32, 64, 128]
    model = ResNet(widths, 3, 2)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):  # non-trivial statistics, so eval-mode BN is tested
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 1.5)
                m.num_batches_tracked.fill_(3)
    model.eval()
    inputs = torch.rand(4, 3, 128, 128, generator=torch.Generator().manual_seed(11))
    inputs[1] *= 0.3                      # a dim image
    inputs[2] = inputs[2] ** 3            # skewed towards dark
    inputs[3] = 1 - inputs[3]
    inputs[3, :, 40:80, 30:90] = 1.0      # a bright patch
    with torch.no_grad():
        logits, embedding = model(inputs)

    metadata = {"format": "nearcaipi-resnet-1", "architecture": "resnet18-w4", "widths": "16,32,64,128",
                "blocks": "2,2,2,2", "input_size": "128", "input_channels": "3", "class_names": "ok,nok",
                "mean": "0.0,0.0,0.0", "std": "1.0,1.0,1.0"}
    write_safetensors("resnet18w4_reference.safetensors", model.state_dict(), metadata)
    write_safetensors("resnet18w4_io.safetensors", {"inputs": inputs, "logits": logits, "embedding": embedding}, {})
    print("logits", logits.tolist())


if __name__ == "__main__":
    main()
