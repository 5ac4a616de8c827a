"""nnspec's PyTorch helper: what generated packages import instead of copying.

Layers whose PyTorch counterparts compute something else (batch norm's running statistics,
TensorFlow's "same" pooling), and reading and writing nnspec's saved models (TensorFlow.js
Layers format: model.json with a weights manifest, weights.bin little-endian float32).
"""

import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


class BatchNorm(nn.Module):
    """Batch normalization as nnspec and TensorFlow.js compute it.

    Training normalizes with the batch's biased variance and moves the statistics as
    moving = moving - (moving - batch) * (1 - momentum); PyTorch's BatchNorm uses the unbiased
    variance for its running statistics and the opposite meaning of momentum.
    """

    def __init__(self, channels, momentum, eps, center=True, scale=True):
        super().__init__()
        self.momentum = momentum
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x, axis):
        axis = axis % x.dim()
        dims = [d for d in range(x.dim()) if d != axis]
        shape = [x.shape[d] if d == axis else 1 for d in range(x.dim())]
        if self.training:
            mean = x.mean(dim=dims)
            var = x.var(dim=dims, unbiased=False)
            with torch.no_grad():
                self.running_mean -= (self.running_mean - mean) * (1 - self.momentum)
                self.running_var -= (self.running_var - var) * (1 - self.momentum)
        else:
            mean, var = self.running_mean, self.running_var
        y = (x - mean.reshape(shape)) / torch.sqrt(var.reshape(shape) + self.eps)
        if self.weight is not None:
            y = y * self.weight.reshape(shape)
        if self.bias is not None:
            y = y + self.bias.reshape(shape)
        return y


class LayerNorm(nn.Module):
    """Layer normalization over the last axis, with gamma and beta each optional."""

    def __init__(self, channels, eps, center=True, scale=True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels)) if scale else None
        self.bias = nn.Parameter(torch.zeros(channels)) if center else None

    def forward(self, x):
        mean = x.mean(dim=-1, keepdim=True)
        var = x.var(dim=-1, unbiased=False, keepdim=True)
        y = (x - mean) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            y = y * self.weight
        if self.bias is not None:
            y = y + self.bias
        return y


def _pad_arg(pads):
    """F.pad's argument from (before, after) pairs listed first axis first."""
    pairs = [pads[i : i + 2] for i in range(0, len(pads), 2)]
    return tuple(v for pair in reversed(pairs) for v in pair)


def max_pool(x, size, stride, pads):
    """Max pooling over channels-first input; padded cells never win (TensorFlow's "same")."""
    if any(pads):
        x = F.pad(x, _pad_arg(pads), value=float("-inf"))
    pool = F.max_pool1d if len(size) == 1 else F.max_pool2d
    return pool(x, size, stride)


def avg_pool(x, size, stride, pads):
    """Average pooling over channels-first input; padded cells are not counted (TensorFlow's "same")."""
    pool = F.avg_pool1d if len(size) == 1 else F.avg_pool2d
    if not any(pads):
        return pool(x, size, stride)
    ones = torch.ones((1, 1) + tuple(x.shape[2:]), dtype=x.dtype, device=x.device)
    total = pool(F.pad(x, _pad_arg(pads)), size, stride)
    count = pool(F.pad(ones, _pad_arg(pads)), size, stride)
    return total / count


def _converted(array, convert):
    """An interpreter array in the module's layout."""
    if convert == "transpose":
        return array.T
    if convert == "channels_first":
        r = array.ndim
        return array.transpose([r - 1, r - 2] + list(range(r - 2)))
    return array


def _interpreted(tensor, convert):
    """A module tensor in the interpreter's layout (the inverse of _converted)."""
    array = tensor.detach().cpu().numpy()
    if convert == "transpose":
        return array.T
    if convert == "channels_first":
        r = array.ndim
        return array.transpose(list(range(2, r)) + [1, 0])
    return array


def _tensor_at(module, path):
    obj = module
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def read_weights(folder):
    """The arrays of a saved model: name -> float32 array, as model.json's manifest lists them."""
    with open(os.path.join(folder, "model.json"), encoding="utf-8") as f:
        manifest = json.load(f)["weightsManifest"]
    out = {}
    for group in manifest:
        data = b"".join(
            open(os.path.join(folder, p), "rb").read() for p in group["paths"]
        )
        offset = 0
        for spec in group["weights"]:
            n = int(np.prod(spec["shape"])) if spec["shape"] else 1
            array = np.frombuffer(data, dtype="<f4", count=n, offset=offset)
            out[spec["name"]] = array.reshape(spec["shape"]).copy()
            offset += 4 * n
    return out


def load_weights(module, folder):
    """Copies a saved model's weights into the module; every weight must find its place."""
    arrays = read_weights(folder)
    table = type(module).WEIGHTS
    missing = sorted(set(table) - set(arrays))
    unknown = sorted(set(arrays) - set(table))
    if missing or unknown:
        raise ValueError(
            f"{folder} does not hold this model's weights: missing {missing}, unexpected {unknown}"
        )
    with torch.no_grad():
        for name, (path, convert) in table.items():
            target = _tensor_at(module, path)
            value = torch.from_numpy(
                np.ascontiguousarray(_converted(arrays[name], convert))
            )
            if tuple(value.shape) != tuple(target.shape):
                raise ValueError(
                    f"{name}: {folder} holds shape {tuple(value.shape)}, the module needs {tuple(target.shape)}"
                )
            target.copy_(value)


def weights_of(module):
    """The module's weights in the interpreter's layout: name -> float32 array."""
    return {
        name: _interpreted(_tensor_at(module, path), convert).astype("<f4")
        for name, (path, convert) in type(module).WEIGHTS.items()
    }


# -- the interpreter's random numbers (src/core/rng.ts): sfc32 seeded by cyrb128, bit for bit --

_M32 = 0xFFFFFFFF


def _imul(a, b):
    return (a * b) & _M32


def _hash128(text):
    h1, h2, h3, h4 = 1779033703, 3144134277, 1013904242, 2773480762
    units = text.encode("utf-16-le")
    for i in range(0, len(units), 2):
        k = units[i] | (units[i + 1] << 8)
        h1 = h2 ^ _imul(h1 ^ k, 597399067)
        h2 = h3 ^ _imul(h2 ^ k, 2869860233)
        h3 = h4 ^ _imul(h3 ^ k, 951274213)
        h4 = h1 ^ _imul(h4 ^ k, 2716044179)
    h1 = _imul(h3 ^ (h1 >> 18), 597399067)
    h2 = _imul(h4 ^ (h2 >> 22), 2869860233)
    h3 = _imul(h1 ^ (h3 >> 17), 951274213)
    h4 = _imul(h2 ^ (h4 >> 19), 2716044179)
    h1 ^= h2 ^ h3 ^ h4
    h2 ^= h1
    h3 ^= h1
    h4 ^= h1
    return h1, h2, h3, h4


class Rng:
    """The interpreter's generator: the same seed and label give the same numbers."""

    def __init__(self, seed, label=""):
        self.seed = int(seed)
        self.label = label
        self.a, self.b, self.c, self.d = _hash128(f"{self.seed}\u0000{label}")
        for _ in range(12):
            self.uint32()

    def fork(self, label):
        return Rng(self.seed, f"{self.label}/{label}" if self.label else label)

    def uint32(self):
        t = (self.a + self.b + self.d) & _M32
        self.d = (self.d + 1) & _M32
        self.a = self.b ^ (self.b >> 9)
        self.b = (self.c + (self.c << 3)) & _M32
        self.c = ((self.c << 21) | (self.c >> 11)) & _M32
        self.c = (self.c + t) & _M32
        return t

    def uniform(self):
        """Uniform in [0, 1)."""
        return self.uint32() / 4294967296

    def permutation(self, n):
        """A uniformly random permutation of 0..n-1, drawn as the interpreter draws it."""
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = int(self.uniform() * (i + 1))
            order[i], order[j] = order[j], order[i]
        return order
