"""nnspec's PyTorch helper: what generated packages import instead of copying.

Layers whose PyTorch counterparts compute something else (batch norm's running statistics,
TensorFlow's "same" pooling), and reading and writing nnspec's saved models (TensorFlow.js
Layers format: model.json with a weights manifest, weights.bin little-endian float32).
"""

import argparse
import json
import math
import os
import shutil
import sys
import warnings

import numpy as np
import torch
import torch.distributed as dist
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
            mean, var = _moments(x, dims, shape)
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


_ACTIVATIONS = {
    "tanh": torch.tanh,
    "sigmoid": torch.sigmoid,
    # TensorFlow.js's hard sigmoid (PyTorch's hardsigmoid has another slope)
    "hard_sigmoid": lambda x: (0.2 * x + 0.5).clamp(0, 1),
    "relu": torch.relu,
    "linear": lambda x: x,
}


class Recurrent(nn.Module):
    """simple_rnn, lstm and gru as the interpreter runs them: Keras's weights (kernel [F, G·u],
    recurrent_kernel [u, G·u], bias [G·u] or [2, 3u] with reset_after) and gate order (LSTM
    i, f, c, o; GRU z, r, h), one step at a time."""

    def __init__(self, cell, features, units, layer, **options):
        super().__init__()
        gates = {"simple_rnn": 1, "lstm": 4, "gru": 3}[cell]
        self.cell, self.units, self.options = cell, units, options
        self.layer = layer
        self.rng = dropout_rng(0, layer)
        self.kernel = nn.Parameter(torch.zeros(features, gates * units))
        self.recurrent_kernel = nn.Parameter(torch.zeros(units, gates * units))
        self.bias = None
        if options["use_bias"]:
            shape = (2, gates * units) if options["reset_after"] else (gates * units,)
            self.bias = nn.Parameter(torch.zeros(shape))

    def reseed(self, model_seed):
        self.rng = dropout_rng(model_seed, self.layer)

    def _mask(self, x, width, rate):
        """One row per example of the global batch, as the interpreter draws it."""
        return dropout_mask(self.rng, x, (width,), rate)

    def forward(self, x, mask=None, state=None):
        """`mask` ([batch, steps], true on the steps that count): a padded step keeps the state.
        `state`: the initial states (h, and an LSTM's c) instead of zeros; with `return_state` the
        final states follow the output."""
        o, u, cell = self.options, self.units, self.cell
        act = _ACTIVATIONS[o["activation"]]
        rec = _ACTIVATIONS[o["recurrent_activation"]]
        u2 = 2 * u
        after = o["reset_after"]
        # dropout: the same inputs and state units at every step (inputs' mask drawn first)
        mask_h = None
        if self.training and o["dropout"] > 0:
            x = x * self._mask(x, x.shape[2], o["dropout"])[:, None, :]
        if self.training and o["recurrent_dropout"] > 0:
            mask_h = self._mask(x, u, o["recurrent_dropout"])
        xw = x @ self.kernel
        if self.bias is not None:
            xw = xw + (self.bias[0] if after else self.bias)
        U = self.recurrent_kernel
        h = x.new_zeros(x.shape[0], u) if state is None else state[0]
        c = x.new_zeros(x.shape[0], u) if state is None or len(state) < 2 else state[1]
        steps = range(x.shape[1])
        outs = []
        for t in reversed(steps) if o["go_backwards"] else steps:
            z = xw[:, t]
            h_was, c_was = h, c
            hr = h if mask_h is None else h * mask_h
            if cell == "simple_rnn":
                h = act(z + hr @ U)
            elif cell == "lstm":
                z = z + hr @ U
                i, f = rec(z[:, :u]), rec(z[:, u:u2])
                g, og = act(z[:, u2 : 3 * u]), rec(z[:, 3 * u :])
                c = f * c + i * g
                h = og * act(c)
            elif after:
                mh = hr @ U
                if self.bias is not None:
                    mh = mh + self.bias[1]
                zz = rec(z[:, :u] + mh[:, :u])
                r = rec(z[:, u:u2] + mh[:, u:u2])
                h = zz * h + (1 - zz) * act(z[:, u2:] + r * mh[:, u2:])
            else:
                zr = z[:, :u2] + hr @ U[:, :u2]
                zz, r = rec(zr[:, :u]), rec(zr[:, u:])
                h = zz * h + (1 - zz) * act(z[:, u2:] + (r * hr) @ U[:, u2:])
            if mask is not None:
                keep = mask[:, t, None]
                h = torch.where(keep, h, h_was)
                c = torch.where(keep, c, c_was)
            outs.append(h)
        out = torch.stack(outs, dim=1) if o["return_sequences"] else h
        if o["return_state"]:
            return (out, h, c) if cell == "lstm" else (out, h)
        return out


class FusedRNN(nn.Module):
    """An lstm, or a gru with reset_after (either bidirectional by concat), that PyTorch's own
    nn.LSTM or nn.GRU computes: tanh and sigmoid gates, no dropout. Keras's LSTM gate order
    (i, f, c, o) is PyTorch's (i, f, g, o): the kernels are stored transposed, the one bias as
    bias_ih with bias_hh held at zero (PyTorch adds both, and a trained second bias would move the
    sum twice as fast). A GRU's gates (z, r, h) become PyTorch's (r, z, n), its two biases
    bias_ih and bias_hh."""

    def __init__(
        self,
        cell,
        features,
        units,
        use_bias,
        return_sequences,
        go_backwards,
        both,
        return_state=False,
    ):
        super().__init__()
        kind = nn.LSTM if cell == "lstm" else nn.GRU
        self.lstm, self.states = cell == "lstm", return_state
        self.rnn = kind(
            features, units, bias=use_bias, batch_first=True, bidirectional=both
        )
        self.sequences, self.backwards = return_sequences, go_backwards
        if use_bias and cell == "lstm":
            for name, p in self.rnn.named_parameters():
                if name.startswith("bias_hh"):
                    p.requires_grad_(False)
                    with torch.no_grad():
                        p.zero_()

    def forward(self, x, state=None):
        """`state`: the initial states (h, and an LSTM's c), one direction only."""
        if self.backwards:
            x = x.flip(1)
        if state is not None:
            start = tuple(s[None] for s in state)
            out, last = self.rnn(x, start if self.lstm else start[0])
        else:
            out, last = self.rnn(x)
        h = last[0] if isinstance(last, tuple) else last
        if self.sequences:
            y = out
        else:
            y = torch.cat([h[0], h[1]], dim=-1) if h.shape[0] == 2 else h[0]
        if self.states:
            return (y, h[0], last[1][0]) if self.lstm else (y, h[0])
        return y


class Bidirectional(nn.Module):
    """Keras's Bidirectional: a second recurrent layer reads the sequence the other way, its
    sequence output reversed into time order, then the two are merged. Both draw their dropout
    masks from the layer's one stream, the forward layer first, as the interpreter does.
    """

    def __init__(self, cell, features, units, layer, merge, **options):
        super().__init__()
        other = dict(options, go_backwards=not options["go_backwards"])
        self.fw = Recurrent(cell, features, units, layer, **options)
        self.bw = Recurrent(cell, features, units, layer, **other)
        self.fw.inner = self.bw.inner = True
        self.merge, self.sequences, self.layer = (
            merge,
            options["return_sequences"],
            layer,
        )
        self.reseed(0)

    def reseed(self, model_seed):
        self.fw.rng = self.bw.rng = dropout_rng(model_seed, self.layer)

    def forward(self, x, mask=None):
        f = self.fw(x, mask)
        b = self.bw(x, mask)
        if self.sequences:
            b = b.flip(1)
        if self.merge == "concat":
            return torch.cat([f, b], dim=-1)
        if self.merge == "sum":
            return f + b
        if self.merge == "ave":
            return (f + b) / 2
        return f * b


class MultiHeadAttention(nn.Module):
    """Keras's MultiHeadAttention as the interpreter computes it (src/kinds/layers/attention):
    kernels [D, H, d] and [H, Vd, O] as Keras stores them; a query sees no later key (causal) and
    no padded key (`mask`, self-attention), and one that sees none attends to every key evenly;
    dropout on the probabilities draws the interpreter's masks, (example, head, query, key) order.
    """

    def __init__(
        self,
        dq,
        dk,
        dv,
        out,
        heads,
        key_dim,
        value_dim,
        dropout,
        causal,
        use_bias,
        layer,
    ):
        super().__init__()
        h, kd, vd = heads, key_dim, value_dim
        shapes = {
            "query": ((dq, h, kd), (h, kd)),
            "key": ((dk, h, kd), (h, kd)),
            "value": ((dv, h, vd), (h, vd)),
            "attention_output": ((h, vd, out), (out,)),
        }
        for name, (kernel, bias) in shapes.items():
            setattr(self, name + "_kernel", nn.Parameter(torch.zeros(kernel)))
            b = nn.Parameter(torch.zeros(bias)) if use_bias else None
            setattr(self, name + "_bias", b)
        self.key_dim, self.rate, self.causal = kd, dropout, causal
        self.layer = layer
        self.rng = dropout_rng(0, layer)

    def reseed(self, model_seed):
        self.rng = dropout_rng(model_seed, self.layer)

    def _project(self, x, name):
        y = torch.einsum("btf,fhd->bhtd", x, getattr(self, name + "_kernel"))
        b = getattr(self, name + "_bias")
        return y if b is None else y + b[None, :, None, :]

    def forward(self, q, v=None, k=None, mask=None):
        v = q if v is None else v
        k = v if k is None else k
        queries = self._project(q, "query")
        keys = self._project(k, "key")
        values = self._project(v, "value")
        scores = queries @ keys.transpose(-1, -2) / math.sqrt(self.key_dim)
        tq, tv = scores.shape[-2], scores.shape[-1]
        visible = torch.ones(tq, tv, dtype=torch.bool, device=q.device)
        if self.causal:
            visible = torch.tril(visible)
        visible = visible[None, None]
        if mask is not None:
            visible = visible & mask[:, None, None, :]
        # hidden keys far below every visible one; a query that sees none sees all evenly
        hidden = torch.full_like(scores, -1e30)
        probs = torch.softmax(torch.where(visible, scores, hidden), dim=-1)
        if self.training and self.rate > 0:
            probs = probs * dropout_mask(self.rng, probs, probs.shape[1:], self.rate)
        heads = probs @ values
        y = torch.einsum("bhtd,hdo->bto", heads, self.attention_output_kernel)
        b = self.attention_output_bias
        return y if b is None else y + b


class PositionalEmbedding(nn.Module):
    """Positions added to a [steps, features] sequence: learned vectors, or the fixed sinusoids
    of src/kinds/layers/position (sin for even features, cos for odd)."""

    def __init__(self, steps, width, mode, max_wavelength):
        super().__init__()
        if mode == "learned":
            self.embeddings = nn.Parameter(torch.zeros(steps, width))
        else:
            i = torch.arange(width, dtype=torch.float64)
            p = torch.arange(steps, dtype=torch.float64)[:, None]
            angle = p * max_wavelength ** (
                -(2 * torch.div(i, 2, rounding_mode="floor")) / width
            )
            fixed = torch.where(i % 2 == 0, torch.sin(angle), torch.cos(angle))
            self.register_buffer("fixed", fixed, persistent=False)

    def forward(self, x):
        pos = self.embeddings if hasattr(self, "embeddings") else self.fixed
        return x + pos.to(x.dtype)


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


def _swap_gates(array, axis):
    """Keras's GRU gate blocks (z, r, h) as PyTorch's (r, z, n), and back: the first two swap."""
    z, r, h = np.split(array, 3, axis=axis)
    return np.concatenate([r, z, h], axis=axis)


def _converted(array, convert):
    """An interpreter array in the module's layout: a list of arrays for a list of tensors."""
    if convert == "transpose":
        return [array.T]
    if convert == "channels_first":
        r = array.ndim
        return [array.transpose([r - 1, r - 2] + list(range(r - 2)))]
    if convert == "gru_gates":
        return [_swap_gates(array, 1).T]
    if convert == "gru_bias":
        # Keras's [2, 3u]: the input bias and the recurrent one, PyTorch's bias_ih and bias_hh
        return [_swap_gates(array[0], 0), _swap_gates(array[1], 0)]
    return [array]


def _interpreted(tensors, convert):
    """Module tensors in the interpreter's layout (the inverse of _converted)."""
    arrays = [t.detach().cpu().numpy() for t in tensors]
    if convert == "transpose":
        return arrays[0].T
    if convert == "channels_first":
        r = arrays[0].ndim
        return arrays[0].transpose(list(range(2, r)) + [1, 0])
    if convert == "gru_gates":
        return _swap_gates(arrays[0].T, 1)
    if convert == "gru_bias":
        return np.stack([_swap_gates(a, 0) for a in arrays])
    return arrays[0]


def _tensor_at(module, path):
    obj = module
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


class UserError(Exception):
    """A mistake in the command line or in the files it names: `error: ...`, exit 1."""


def read_json(path):
    """A JSON object from a saved model's folder, or a UserError that says what is wrong."""
    try:
        with open(path, encoding="utf-8") as f:
            value = json.load(f)
    except FileNotFoundError:
        raise UserError(
            f"{path} does not exist: give a folder that `nnspec train` or train.py wrote "
            "(it holds model.json, weights.bin and nnspec.json)"
        ) from None
    except (ValueError, UnicodeDecodeError) as e:
        raise UserError(
            f"{path} is not valid JSON ({e}); the file is damaged or was cut short: save the model again"
        ) from None
    if not isinstance(value, dict):
        raise UserError(f"{path} does not hold a JSON object: save the model again")
    return value


def read_weights(folder):
    """The arrays of a saved model: name -> float32 array, as model.json's manifest lists them."""
    manifest = read_json(os.path.join(folder, "model.json")).get("weightsManifest")
    if not isinstance(manifest, list):
        raise UserError(
            f"{os.path.join(folder, 'model.json')} has no weights manifest: it is not a saved model"
        )
    out = {}
    for group in manifest:
        data = b""
        for p in group["paths"]:
            if os.path.basename(p) != p:
                raise UserError(f"{folder}: the weight file `{p}` is not inside it")
            try:
                with open(os.path.join(folder, p), "rb") as f:
                    data += f.read()
            except OSError as e:
                raise UserError(f"cannot read {os.path.join(folder, p)}: {e}") from None
        offset = 0
        for spec in group["weights"]:
            n = int(np.prod(spec["shape"])) if spec["shape"] else 1
            if offset + 4 * n > len(data):
                raise UserError(
                    f"{folder}: the weight files hold {len(data)} bytes, fewer than model.json lists: "
                    "the files come from different saves or one was cut short"
                )
            array = np.frombuffer(data, dtype="<f4", count=n, offset=offset)
            out[spec["name"]] = array.reshape(spec["shape"]).copy()
            offset += 4 * n
        if offset != len(data):
            raise UserError(
                f"{folder}: the weight files hold {len(data)} bytes, model.json lists {offset}: "
                "the files come from different saves"
            )
    return out


def load_weights(module, folder):
    """Copies a saved model's weights into the module; every weight must find its place."""
    arrays = read_weights(folder)
    table = type(module).WEIGHTS
    missing = sorted(set(table) - set(arrays))
    unknown = sorted(set(arrays) - set(table))
    if missing or unknown:
        raise UserError(
            f"{folder} does not hold this model's weights: missing {missing}, unexpected {unknown}"
        )
    with torch.no_grad():
        for name, (path, convert) in table.items():
            if tuple(arrays[name].shape) != tuple(weights_shape(module, name)):
                raise UserError(
                    f"{name}: {folder} holds shape {tuple(arrays[name].shape)}, "
                    f"the module needs {tuple(weights_shape(module, name))}"
                )
            parts = _converted(arrays[name], convert)
            for target, value in zip(_tensors_at(module, path), parts):
                target.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def weights_of(module):
    """The module's weights in the interpreter's layout, in the module's precision: name -> array."""
    return {
        name: _interpreted(_tensors_at(module, path), convert)
        for name, (path, convert) in type(module).WEIGHTS.items()
    }


def weights_shape(module, name):
    """The interpreter's shape of one weight of the module."""
    path, convert = type(module).WEIGHTS[name]
    return _interpreted(_tensors_at(module, path), convert).shape


def _tensors_at(module, path):
    """The tensors a WEIGHTS entry names: one path, or several separated by spaces."""
    return [_tensor_at(module, p) for p in path.split(" ")]


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

    def uniforms(self, n):
        """The next n uniform draws as float64 numbers: uniform() n times, without its calls."""
        a, b, c, d = self.a, self.b, self.c, self.d
        out = [0] * n
        for i in range(n):
            t = (a + b + d) & 0xFFFFFFFF
            d += 1
            a = b ^ (b >> 9)
            b = (c + (c << 3)) & 0xFFFFFFFF
            c = (((c << 21) | (c >> 11)) + t) & 0xFFFFFFFF
            out[i] = t
        self.a, self.b, self.c, self.d = a, b, c, d & 0xFFFFFFFF
        return np.array(out, dtype=np.float64) / 4294967296

    def permutation(self, n):
        """A uniformly random permutation of 0..n-1, drawn as the interpreter draws it."""
        order = list(range(n))
        for i in range(n - 1, 0, -1):
            j = int(self.uniform() * (i + 1))
            order[i], order[j] = order[j], order[i]
        return order


# -- the data module's mulberry32 streams (src/data/random.ts): splits and epoch orders --


def _fmix32(h):
    h &= _M32
    h = _imul(h ^ (h >> 16), 0x85EBCA6B)
    h = _imul(h ^ (h >> 13), 0xC2B2AE35)
    return (h ^ (h >> 16)) & _M32


def _seed32(seed):
    s = int(seed)
    lo = s & _M32
    if -2147483648 <= s < 4294967296:
        return lo
    return (lo ^ _fmix32((s // 4294967296) & _M32)) & _M32


def _mulberry32(seed):
    state = [_seed32(seed)]

    def next_uint32():
        state[0] = (state[0] + 0x6D2B79F5) & _M32
        t = state[0]
        t = _imul(t ^ (t >> 15), t | 1)
        t = (t ^ ((t + _imul(t ^ (t >> 7), t | 61)) & _M32)) & _M32
        return (t ^ (t >> 14)) & _M32

    return next_uint32


def _derive_seed(seed, stream):
    return _fmix32(_seed32(seed) ^ _imul((stream + 1) & _M32, 0x9E3779B9))


def epoch_order(n, seed, epoch):
    """The order in which the interpreter visits the n training rows in an epoch (0-based)."""
    draw = _mulberry32(_derive_seed(seed, epoch))
    order = list(range(n))
    for i in range(n - 1, 0, -1):
        j = (draw() * (i + 1)) // 4294967296
        order[i], order[j] = order[j], order[i]
    return order


# -- training with the interpreter's formulas (src/kinds/losses, src/kinds/optimizers) --

EPSILON = 1e-7


def dropout_rng(model_seed, layer, own_seed=None):
    """The stream a dropout layer draws its masks from, as the interpreter chooses it."""
    if own_seed is not None:
        return Rng(own_seed, "dropout")
    return Rng(model_seed, f"dropout/{layer}")


def dropout_mask(rng, x, each, rate):
    """The interpreter's dropout mask for a batch x: one draw per value of `each` per example, for
    the whole global batch under torchrun, of which this process keeps its rows; kept values are
    scaled by 1/(1 - rate)."""
    rows = x.shape[0] if SHARD.rows is None else SHARD.rows
    each = tuple(each)
    keep = torch.from_numpy(rng.uniforms(rows * shape_size(each)) >= rate).to(x.device)
    keep = keep.reshape((rows,) + each)[SHARD.offset : SHARD.offset + x.shape[0]]
    return keep.to(x.dtype) * (1 / (1 - rate))


class Dropout(nn.Module):
    """Dropout whose masks are the interpreter's: one uniform draw per value, kept when u >= rate."""

    def __init__(self, rate, layer, seed=None):
        super().__init__()
        self.rate = rate
        self.layer = layer
        self.own_seed = seed
        self.rng = dropout_rng(0, layer, seed)

    def reseed(self, model_seed):
        self.rng = dropout_rng(model_seed, self.layer, self.own_seed)

    def forward(self, x):
        if not self.training or self.rate <= 0:
            return x
        return x * dropout_mask(self.rng, x, x.shape[1:], self.rate)


def _target(y, k, smooth, sparse):
    if sparse:
        return F.one_hot(y.long().clamp(0, k - 1).reshape(-1), k).to(torch.float32)
    t = y.reshape(-1, k)
    return t * (1 - smooth) + smooth / k if smooth else t


# The losses: one function per loss kind of nnspec (src/kinds/losses, each entry's `torch`), the
# batch's mean as the interpreter computes it; the keyword arguments are the kind's options.


def mse(pred, y):
    return ((pred - y.reshape(pred.shape)) ** 2).mean()


def mae(pred, y):
    return (pred - y.reshape(pred.shape)).abs().mean()


def huber(pred, y, delta):
    e = pred - y.reshape(pred.shape)
    a = e.abs()
    return torch.where(a <= delta, 0.5 * e * e, delta * a - 0.5 * delta * delta).mean()


def binary_cross_entropy(pred, y, from_logits, label_smoothing):
    ls = label_smoothing
    t = y.reshape(pred.shape)
    t = t * (1 - ls) + 0.5 * ls if ls else t
    if from_logits:
        x = pred
    else:
        q = pred.clamp(EPSILON, 1 - EPSILON)
        x = torch.log(q / (1 - q))
    return (x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))).mean()


def _categorical(pred, y, from_logits, smooth, sparse_kind):
    k = pred.shape[-1]
    rows = pred.numel() // k
    p = pred.reshape(rows, k)
    # class indices given to cross_entropy are read as sparse labels, as the interpreter does
    sparse = sparse_kind or (y.numel() == rows and k > 1 and y.numel() != pred.numel())
    t = _target(y, k, 0 if sparse else smooth, sparse)
    if from_logits:
        lse = torch.logsumexp(p, dim=1, keepdim=True)
        return (t * (lse - p)).sum(dim=1).mean()
    v = p.clamp(EPSILON, 1 - EPSILON) if sparse_kind else p
    q = v / v.sum(dim=1, keepdim=True)
    return -(t * torch.log(q.clamp(EPSILON, 1 - EPSILON))).sum(dim=1).mean()


def cross_entropy(pred, y, from_logits, label_smoothing):
    return _categorical(pred, y, from_logits, label_smoothing, False)


def sparse_cross_entropy(pred, y, from_logits):
    return _categorical(pred, y, from_logits, 0, True)


def penalty(module):
    """The L1/L2 penalty of the weights that have one: l1 * sum|w| + l2 * sum w^2."""
    total = 0.0
    for name, (l1, l2) in type(module).PENALTIES.items():
        w = _tensor_at(module, type(module).WEIGHTS[name][0])
        total = total + l1 * w.abs().sum() + l2 * (w * w).sum()
    return total


# The update rules: one class per optimizer kind of nnspec (src/kinds/optimizers, each entry's
# `torch`), the interpreter's formulas where PyTorch's differ (epsilon inside the square root,
# TensorFlow's momentum and centered RMSprop); the keyword arguments are the kind's options.


class _Rule:
    """Parameters the rule updates (frozen ones left out) and their state buffers."""

    def __init__(self, params, lr, buffers, first=0.0):
        self.params = [p for p in params if p.requires_grad]
        self.base_lr = lr
        self.state = [
            [torch.full_like(p, first if i == 0 else 0.0) for i in range(buffers)]
            for p in self.params
        ]

    @torch.no_grad()
    def step(self, lr):
        for w, state in zip(self.params, self.state):
            self.update(w, w.grad, state, lr)
        self.after()

    def after(self):
        pass


class SGD(_Rule):
    """Plain SGD, or TensorFlow's momentum: a = m·a + g; w -= lr·a (Nesterov: lr·(g + m·a))."""

    def __init__(self, params, lr, momentum, nesterov):
        super().__init__(params, lr, 1 if momentum else 0)
        self.momentum = momentum
        self.nesterov = nesterov

    def update(self, w, g, state, lr):
        m = self.momentum
        if m == 0:
            w -= lr * g
            return
        (a,) = state
        a.mul_(m).add_(g)
        w -= lr * (g + a * m) if self.nesterov else lr * a


class Adagrad(_Rule):
    def __init__(self, params, lr, initial_accumulator):
        super().__init__(params, lr, 1, initial_accumulator)

    def update(self, w, g, state, lr):
        (a,) = state
        a.add_(g * g)
        w -= lr * g / torch.sqrt(a + 1e-7)


class RMSprop(_Rule):
    def __init__(self, params, lr, rho, momentum, epsilon, centered):
        super().__init__(params, lr, 3 if centered else 2)
        self.rho, self.momentum, self.epsilon, self.centered = (
            rho,
            momentum,
            epsilon,
            centered,
        )

    def update(self, w, g, state, lr):
        rho, eps = self.rho, self.epsilon
        s, v = state[0], state[1]
        s.mul_(rho).add_((1 - rho) * g * g)
        if self.centered:
            c = state[2]
            c.mul_(rho).add_((1 - rho) * g)
            denom = torch.sqrt((s - c * c).clamp(min=0) + eps)
        else:
            denom = torch.sqrt(s + eps)
        v.mul_(self.momentum).add_(lr * g / denom)
        w -= v


class Adam(_Rule):
    """Adam with the interpreter's bias correction and epsilon outside the square root."""

    def __init__(self, params, lr, beta1, beta2, epsilon):
        super().__init__(params, lr, 2)
        self.beta1, self.beta2, self.epsilon = beta1, beta2, epsilon
        self.weight_decay = 0.0
        self.acc1, self.acc2 = beta1, beta2

    def update(self, w, g, state, lr):
        b1, b2 = self.beta1, self.beta2
        m, v = state
        m.mul_(b1).add_((1 - b1) * g)
        v.mul_(b2).add_((1 - b2) * g * g)
        c1 = 1 / (1 - self.acc1)
        c2 = 1 / (1 - self.acc2)
        if self.weight_decay:
            w.mul_(1 - lr * self.weight_decay)
        w -= lr * m * c1 / (torch.sqrt(v * c2) + self.epsilon)

    def after(self):
        self.acc1 *= self.beta1
        self.acc2 *= self.beta2


class AdamW(Adam):
    """Adam with decoupled weight decay: w ← w·(1 − lr·decay) before the step."""

    def __init__(self, params, lr, beta1, beta2, epsilon, weight_decay):
        super().__init__(params, lr, beta1, beta2, epsilon)
        self.weight_decay = weight_decay


def seed_dropout(module, seed):
    """Points every dropout layer at its stream under the model's seed, as the interpreter does."""
    for m in module.modules():
        if isinstance(
            m, (Dropout, Recurrent, Bidirectional, MultiHeadAttention)
        ) and not getattr(m, "inner", False):
            m.reseed(seed)


# -- processes: this one alone, or one of torchrun's --


class Shard:
    """The rows of the current global batch that this process computes.

    Dropout draws the whole batch's masks and keeps its rows; batch norm sums its statistics over
    every process. Without torchrun a process computes the whole batch.
    """

    offset = 0
    rows = None
    world = 1


SHARD = Shard()


def _moments(x, dims, shape):
    """Mean and biased variance per channel over the global batch (every process's rows)."""
    if SHARD.world == 1:
        return x.mean(dim=dims), x.var(dim=dims, unbiased=False)
    from torch.distributed.nn.functional import all_reduce

    count = torch.tensor(float(x.numel() // shape_size(shape)), dtype=x.dtype)
    dist.all_reduce(count)
    count = count.to(x.device)
    mean = all_reduce(x.sum(dim=dims)) / count
    centered = x - mean.reshape(shape)
    return mean, all_reduce((centered * centered).sum(dim=dims)) / count


def shape_size(shape):
    return int(np.prod(shape))


def _device(name, local_rank):
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(name)
    except RuntimeError:
        raise UserError(
            f"--device {name}: not a device; use cpu, cuda, cuda:N or auto"
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise UserError(
                f"--device {name}: PyTorch {torch.__version__} sees no CUDA GPU on this machine; "
                "use --device cpu"
            )
        if device.index is None:
            device = torch.device("cuda", local_rank)
        if device.index >= torch.cuda.device_count():
            raise UserError(
                f"--device {name}: this machine has {torch.cuda.device_count()} GPU(s), "
                f"numbered 0 to {torch.cuda.device_count() - 1}"
            )
    elif device.type != "cpu":
        raise UserError(f"--device {name}: use cpu, cuda, cuda:N or auto")
    return device


class World:
    """This process among torchrun's (RANK, WORLD_SIZE, LOCAL_RANK), or alone without torchrun."""

    def __init__(self, device="cpu"):
        env = os.environ
        try:
            self.size = int(env.get("WORLD_SIZE", "1"))
            self.rank = int(env.get("RANK", "0"))
            local = int(env.get("LOCAL_RANK", "0"))
        except ValueError:
            raise UserError(
                "RANK, WORLD_SIZE and LOCAL_RANK must be integers; start train.py "
                "with torchrun, or without them for one process"
            ) from None
        self.device = _device(device, local)
        if self.size > 1:
            backend = "nccl" if self.device.type == "cuda" else "gloo"
            if self.device.type == "cuda":
                torch.cuda.set_device(self.device)
            dist.init_process_group(backend)

    def sum(self, values):
        """Element-wise sums of a list of floats over every process."""
        if self.size == 1:
            return list(values)
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(t)
        return t.tolist()

    def part(self, rows):
        """This process's contiguous part of `rows` and where it starts."""
        if self.size == 1:
            return rows, 0
        parts = torch.tensor_split(rows, self.size)
        return parts[self.rank], sum(len(p) for p in parts[: self.rank])

    def wrap(self, module):
        """The module as training calls it: DistributedDataParallel across several processes."""
        if self.size == 1:
            return module
        from torch.nn.parallel import DistributedDataParallel

        ids = [self.device.index] if self.device.type == "cuda" else None
        # a convolution fed channels-last data returns its kernel's gradient in that layout; DDP
        # copies it into its bucket and says so once per process
        warnings.filterwarnings(
            "ignore", message="Grad strides do not match bucket view"
        )
        # batch norm's statistics are global already (_moments), so buffers agree by construction
        return DistributedDataParallel(module, device_ids=ids, broadcast_buffers=False)

    def barrier(self):
        if self.size > 1:
            dist.barrier()

    def close(self):
        if self.size > 1:
            dist.destroy_process_group()


# -- metrics (src/kinds/metrics/kernel.ts) --


def _scores(tp, fp, fn):
    """Precision, recall and F1 of one class from its counts; 0 where a ratio is 0/0."""
    precision = tp / (tp + fp) if tp + fp > 0 else 0
    recall = tp / (tp + fn) if tp + fn > 0 else 0
    both = precision + recall
    return precision, recall, (2 * precision * recall) / both if both > 0 else 0


def _mean(xs):
    return sum(xs) / len(xs) if xs else 0


class Metrics:
    """The interpreter's metrics as sums that add across batches and processes: the examples, then
    a confusion matrix (classes; per label tp, fp, fn, tn for multi-label outputs) or the error sums
    and label moments (regression)."""

    def __init__(self, task, threshold, out_shape, label_width):
        self.task = task
        self.k = out_shape[-1] if out_shape else 1
        self.elems = shape_size(out_shape)
        self.threshold = threshold
        self.sparse = task == "multiclass" and label_width != self.elems
        if task == "regression":
            size = 3 + 2 * self.elems
        elif task == "multilabel":
            size = 4 * self.k
        else:
            size = (2 if task == "binary" else self.k) ** 2
        self.sums = torch.zeros(1 + size, dtype=torch.float64)

    def add(self, pred, y):
        pred = pred.detach().double().reshape(-1).cpu()
        y = y.detach().double().reshape(-1).cpu()
        k, s = self.k, self.sums
        s[0] += pred.numel() // self.elems
        if self.task == "multiclass":
            best = pred.reshape(-1, k).argmax(dim=1)
            truth = (
                torch.trunc(y).long() if self.sparse else y.reshape(-1, k).argmax(dim=1)
            )
            kept = (truth >= 0) & (truth < k)
            cells = truth[kept] * k + best[kept]
            s[1:] += torch.bincount(cells, minlength=k * k).double()
        elif self.task == "binary":
            cells = (y >= 0.5).long() * 2 + (pred >= self.threshold).long()
            s[1:] += torch.bincount(cells, minlength=4).double()
        elif self.task == "multilabel":
            p, t = pred >= self.threshold, y >= 0.5
            kind = torch.where(p, torch.where(t, 0, 1), torch.where(t, 2, 3))
            cells = (torch.arange(pred.numel()) % k) * 4 + kind
            s[1:] += torch.bincount(cells, minlength=4 * k).double()
        else:
            e = pred - y
            s[1] += (e * e).sum()
            s[2] += e.abs().sum()
            s[3] += e.numel()
            j = torch.arange(y.numel()) % self.elems
            n = self.elems
            s[4 : 4 + n] += torch.bincount(j, weights=y, minlength=n)
            s[4 + n :] += torch.bincount(j, weights=y * y, minlength=n)

    def result(self, sums=None):
        """{"n": examples, "values": every metric of the task}, from these sums or given ones."""
        s = (self.sums if sums is None else torch.tensor(sums)).tolist()
        n = s[0]
        values = {}
        if self.task == "regression":
            sse, sae, count = s[1:4]
            e = self.elems
            mse = sse / max(1, count)
            values["mse"] = mse
            values["rmse"] = math.sqrt(mse)
            values["mae"] = sae / max(1, count)
            total = 0
            for j in range(e):
                total += s[4 + e + j] - (s[4 + j] * s[4 + j]) / max(1, n)
            values["r2"] = 1 - sse / total if total > 0 else 0
            return {"n": int(n), "values": values}
        cells = s[1:]
        per = []
        if self.task == "multilabel":
            for c in range(self.k):
                tp, fp, fn = cells[4 * c : 4 * c + 3]
                per.append(_scores(tp, fp, fn))
            right = sum(cells[4 * c] + cells[4 * c + 3] for c in range(self.k))
        else:
            c_ = 2 if self.task == "binary" else self.k
            cm = [cells[t * c_ : (t + 1) * c_] for t in range(c_)]
            for c in range(c_):
                fp = sum(cm[o][c] for o in range(c_) if o != c)
                fn = sum(cm[c][o] for o in range(c_) if o != c)
                per.append(_scores(cm[c][c], fp, fn))
            right = sum(cm[c][c] for c in range(c_))
        values["accuracy"] = right / max(1, sum(cells))
        if self.task == "binary":
            values["precision"], values["recall"], values["f1"] = per[1]
        else:
            for i, name in enumerate(("precision", "recall", "f1")):
                values[name] = _mean([p[i] for p in per])
        return {"n": int(n), "values": values}


def fmt(v):
    """A figure as nnspec prints it: four decimals, or three in exponent form when very large or small."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if abs(v) >= 1000 or (v != 0 and abs(v) < 1e-3):
        mantissa, exponent = f"{v:.3e}".split("e")
        return f"{mantissa}e{int(exponent):+d}"
    return f"{v:.4f}"


# -- a whole run, as `nnspec train` runs it: what train.py calls --


def read_npy(folder, name):
    return torch.from_numpy(np.load(os.path.join(folder, name + ".npy")))


def _metrics(module_out, block, y):
    width = shape_size(tuple(y.shape[1:]))
    return Metrics(block["task"], block["threshold"], list(module_out), width)


def evaluate(module, x, y, block, world=None, batch=256):
    """Loss (with the penalties) and every metric over a whole split, in inference mode, in
    batches as the interpreter's evaluator takes them. Under torchrun each process predicts its
    part of the rows and the sums are shared. Returns (loss, {"n", "values"})."""
    world = world or World()
    module.eval()
    rows, _ = world.part(torch.arange(x.shape[0]))
    metrics = _metrics(block["out"], block, y)
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(rows), batch):
            part = rows[i : i + batch]
            pred = module(x[part])
            total += float(block["loss"](pred, y[part])) * len(part)
            metrics.add(pred, y[part])
        extra = float(penalty(module))
    sums = world.sum([total] + metrics.sums.tolist())
    report = metrics.result(sums[1:])
    return sums[0] / max(1, report["n"]) + extra, report


def _report_line(split, loss, report):
    shown = "  ".join(f"{k} {fmt(v)}" for k, v in report["values"].items())
    return f"{split} ({report['n']} examples): loss {fmt(loss)}  {shown}"


def fit(module, block, split, start, epochs, world=None, log=print):
    """Trains `module` from the weights in `start` on `split` ({"train": (x, y), "val": (x, y) or
    None}) as the interpreter's loop does: the schedule's rate per epoch (or reduce_on_plateau's),
    validation after each epoch, early stopping on the monitored value with the best weights
    restored. Under torchrun every process takes its part of each global batch; the steps are
    those of one process. Returns the epochs run and the restored epoch."""
    world = world or World()
    device = world.device
    load_weights(module, start)
    seed_dropout(module, block["seed"])
    module.to(device)
    net = world.wrap(module)
    SHARD.world = world.size
    x, y = (t.to(device) for t in split["train"])
    val = split.get("val")
    if val is not None:
        val = tuple(t.to(device) for t in val)
    n = x.shape[0]
    batch = max(1, min(block["batch"], n))
    updater = block["optimizer"](module.parameters())
    es = block.get("early_stopping")
    plateau = block.get("plateau")
    monitor = es["monitor"] if es else ("val_loss" if val is not None else "loss")
    if monitor.startswith("val_") and val is None and (es or plateau):
        log(
            f"note: there is no validation split, so `{monitor}` is watched on the training split"
        )
        monitor = monitor[4:]
    watched_metric = monitor[4:] if monitor.startswith("val_") else monitor
    higher = bool(es and es["higher"])

    def better(a, b, delta):
        return a > b + delta if higher else a < b - delta

    best = -math.inf if higher else math.inf
    plateau_best, plateau_wait, plateau_lr = best, 0, updater.base_lr
    best_epoch, best_state, wait = None, None, 0
    done = 0
    width = len(str(epochs))
    for epoch in range(epochs):
        lr = plateau_lr if plateau else block["lr"](updater.base_lr, epoch)
        order = torch.tensor(epoch_order(n, block["seed"], epoch), device=device)
        module.train()
        total = 0.0
        metrics = _metrics(block["out"], block, y)
        for start_row in range(0, n, batch):
            rows = order[start_row : start_row + batch]
            mine, SHARD.offset = world.part(rows)
            SHARD.rows = rows.numel()
            for p in module.parameters():
                p.grad = None
            out = net(x[mine])
            k = mine.numel()
            extra = penalty(module)
            if k:
                part = block["loss"](out, y[mine])
            else:
                part = out.sum() * 0.0
            if world.size == 1:
                loss = part + extra
            else:
                # DistributedDataParallel averages the processes' gradients: weigh each part by
                # its rows so that the average is the global batch's gradient
                loss = part * (k * world.size / rows.numel()) + extra
            loss.backward()
            updater.step(lr)
            total += (float(part) + float(extra)) * k
            metrics.add(out, y[mine])
        SHARD.rows, SHARD.offset = None, 0
        sums = world.sum([total] + metrics.sums.tolist())
        trained = metrics.result(sums[1:])["values"]
        values = {"loss": sums[0] / n}
        for m in block["metrics"]:
            if m in trained:
                values[m] = trained[m]
        if val is not None:
            values["val_loss"], report = evaluate(
                module, *val, block, world, max(batch, 256)
            )
            for m in block["metrics"]:
                if m in report["values"]:
                    values[f"val_{m}"] = report["values"][m]
            if (
                f"val_{watched_metric}" not in values
                and watched_metric in report["values"]
            ):
                values[f"val_{watched_metric}"] = report["values"][watched_metric]
        if watched_metric not in values and watched_metric in trained:
            values[watched_metric] = trained[watched_metric]
        shown = "  ".join(f"{k} {fmt(v)}" for k, v in values.items())
        log(f"epoch {epoch + 1:>{width}}/{epochs}  {shown}")
        done = epoch + 1
        watched = values.get(monitor)
        if plateau and watched is not None:
            if better(watched, plateau_best, 0):
                plateau_best, plateau_wait = watched, 0
            else:
                plateau_wait += 1
                if plateau_wait >= plateau["patience"]:
                    plateau_lr = max(plateau_lr * plateau["factor"], plateau["min_lr"])
                    plateau_wait = 0
        if es and watched is not None:
            if better(watched, best, es["min_delta"]):
                best, best_epoch, wait = watched, epoch + 1, 0
                if es["restore_best"]:
                    best_state = {k: v.clone() for k, v in module.state_dict().items()}
            else:
                wait += 1
                if wait >= es["patience"]:
                    log(
                        f"stopped: `{monitor}` did not improve for {es['patience']} epoch(s) after epoch {best_epoch}"
                    )
                    break
    if best_state is not None:
        module.load_state_dict(best_state)
        log(f"restored the weights of epoch {best_epoch}")
    return {
        "epochs": done,
        "best_epoch": best_epoch if best_state is not None else None,
    }


def _splits(folder):
    """The prepared splits in a data folder: train, and val and test where they have rows."""
    found = {}
    for part in ("train", "val", "test"):
        if os.path.exists(os.path.join(folder, f"{part}_x.npy")):
            found[part] = (read_npy(folder, f"{part}_x"), read_npy(folder, f"{part}_y"))
    return found


def _quiet(*_):
    pass


def cross_validate(make, block, data, init, epochs, world, log):
    """K-fold cross-validation as `nnspec train` runs it: a fresh model per fold from the initial
    weights, trained on the fold's rows and scored on its held-out rows; each score's mean and
    sample standard deviation."""
    folds = sorted(f for f in os.listdir(data) if f.startswith("fold-"))
    folds.sort(key=lambda f: int(f[5:]))
    k = len(folds)
    log(
        f"cross-validation, {k} folds (each trains a fresh model on {k - 1} parts and scores the held-out one):"
    )
    scores = []
    for i, fold in enumerate(folds):
        parts = _splits(os.path.join(data, fold))
        module = make()
        run = fit(
            module,
            block,
            {"train": parts["train"], "val": parts["val"]},
            init,
            epochs,
            world,
            _quiet,
        )
        loss, report = evaluate(module, *parts["val"], block, world)
        values = {"loss": loss}
        for m, v in report["values"].items():
            if m in block["metrics"]:
                values[m] = v
        shown = "  ".join(f"{m} {fmt(v)}" for m, v in values.items())
        log(
            f"fold {i + 1}/{k}  {run['epochs']} epoch(s)  held out {report['n']}: {shown}"
        )
        scores.append(values)
    parts = []
    for m in scores[0]:
        xs = [s[m] for s in scores]
        mean = sum(xs) / len(xs)
        sd = (
            math.sqrt(sum((x - mean) * (x - mean) for x in xs) / (len(xs) - 1))
            if len(xs) > 1
            else 0
        )
        parts.append(f"{m} {fmt(mean)} ± {fmt(sd)}")
    log(f"cross-validation ({k} folds, held-out rows, mean ± sd): {'  '.join(parts)}")


def train_block(make, block, data, start, epochs, world, log, folds=True):
    """One train block: cross-validation when it has folds (and `folds`: not when continuing a
    saved model), then the model on all its training rows, tested on the test split. Returns the
    trained module and what nnspec.json records."""
    found = _splits(data)
    if folds and os.path.isdir(os.path.join(data, "fold-1")):
        cross_validate(make, block, data, start, epochs, world, log)
        log(f"final model: trained on all {found['train'][0].shape[0]} non-test rows")
    module = make()
    result = fit(module, block, found, start, epochs, world, log)
    if "test" in found:
        loss, report = evaluate(module, *found["test"], block, world)
        log(_report_line("test", loss, report))
        result["test"] = {"loss": loss, "values": report["values"]}
    return module, result


# -- saving: the files `nnspec train` writes, so nnspec eval, predict and train --from read them --

# the files a run's folder may hold (src/saved/save.ts OUTPUT_FILES; a test keeps them equal)
RUN_FILES = (
    "model.json",
    "weights.bin",
    "nnspec.json",
    "history.json",
    "history.csv",
    "curves.svg",
    "graph.svg",
    "report.txt",
    "report.json",
)


def writable_folder(out):
    """Why `out` cannot receive a run's files, or None: checked before training starts."""
    if os.path.lexists(out) and not os.path.isdir(out):
        return f"{out} exists and is not a folder; give another --out"
    if os.path.isdir(out):
        foreign = sorted(set(os.listdir(out)) - set(RUN_FILES))
        if foreign:
            more = ", ..." if len(foreign) > 3 else ""
            return (
                f"{out} already holds files nnspec did not write ({', '.join(foreign[:3])}{more}); "
                "give an empty or new folder with --out, nothing was written"
            )
    return None


def write_folder(out, files):
    """Writes `files` as the folder `out` in one rename: never a mix of old and new files."""
    why = writable_folder(out)
    if why:
        raise UserError(why)
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = os.path.join(
            parent, f".{os.path.basename(out)}.tmp-{os.getpid()}-{os.urandom(4).hex()}"
        )
        os.mkdir(tmp)
    except OSError as e:
        raise UserError(
            f"cannot write into {parent}: {e.strerror}; nothing was written"
        ) from None
    old = None
    try:
        for name, data in files.items():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data.encode("utf-8") if isinstance(data, str) else data)
                f.flush()
                os.fsync(f.fileno())
        if os.path.isdir(out):
            old = tmp + ".old"
            os.rename(out, old)
        os.rename(tmp, out)
    except OSError as e:
        if old and not os.path.exists(out):
            os.rename(old, out)
            old = None
        shutil.rmtree(tmp, ignore_errors=True)
        raise UserError(
            f"cannot write {out}: {e.strerror}; nothing was written"
        ) from None
    if old:
        shutil.rmtree(old, ignore_errors=True)


def save_model(module, init, out, result):
    """Writes the trained module as `nnspec train` saves a model: init's topology and sidecar,
    the module's weights in the manifest's order, the run's epochs and test results."""
    with open(os.path.join(init, "model.json"), encoding="utf-8") as f:
        model_json = f.read()
    manifest = json.loads(model_json)["weightsManifest"]
    values = weights_of(module)
    weights = b"".join(
        np.ascontiguousarray(values[w["name"]], dtype="<f4").tobytes()
        for group in manifest
        for w in group["weights"]
    )
    meta = read_json(os.path.join(init, "nnspec.json"))
    meta["epochs"] = result["epochs"]
    if result.get("best_epoch") is not None:
        meta["bestEpoch"] = result["best_epoch"]
    if "test" in result:
        meta["test"] = result["test"]
    meta["trainedWith"] = f"PyTorch {torch.__version__}"
    files = {
        "model.json": model_json,
        "weights.bin": weights,
        "nnspec.json": json.dumps(meta, indent=1) + "\n",
    }
    write_folder(out, files)
    return list(files)


def _layers(topology):
    """A topology's layers by name, without `trainable` (fine-tuning may change it)."""
    out = {}
    for layer in topology.get("config", {}).get("layers", []):
        config = {k: v for k, v in layer.get("config", {}).items() if k != "trainable"}
        out[layer.get("name")] = (
            layer.get("class_name"),
            config,
            layer.get("inbound_nodes"),
        )
    return out


def check_start(folder, init):
    """Raises a UserError unless the saved model in `folder` can start the block whose untrained
    model is `init`: the same model and the preprocessing the prepared data went through.
    """
    meta = read_json(os.path.join(folder, "nnspec.json"))
    want = read_json(os.path.join(init, "nnspec.json"))
    if meta.get("format") != "nnspec-model":
        raise UserError(
            f"{folder}/nnspec.json does not describe an nnspec model: save it again"
        )
    spec = want["spec"]["file"]
    if meta.get("model") != want["model"]:
        raise UserError(
            f"{folder} holds the model `{meta.get('model')}`, this block trains `{want['model']}`: "
            "give a folder saved from it"
        )
    mine = _layers(read_json(os.path.join(init, "model.json")).get("modelTopology", {}))
    saved = _layers(
        read_json(os.path.join(folder, "model.json")).get("modelTopology", {})
    )
    for name in list(mine) + [n for n in saved if n not in mine]:
        if mine.get(name) != saved.get(name):
            where = (
                "is not in the saved model"
                if name not in saved
                else ("is not in this model" if name not in mine else "differs")
            )
            raise UserError(
                f"{folder}: layer `{name}` {where}; the model `{want['model']}` of {spec} is not "
                f"the one saved there: build the spec it was trained from"
            )
    if meta.get("preprocess") != want["preprocess"]:
        raise UserError(
            f"{folder} was trained on data preprocessed otherwise than the data prepared here "
            f"(another data block, split or seed); continue it with `nnspec train {spec} --from "
            f"{folder}`, which reapplies its preprocessing"
        )


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        sys.exit(1)


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"needs a positive integer, not `{text}`")
    return value


def run(spec, source, blocks, models, here, argv=None, log=print):
    """train.py's command line: the spec's train blocks as `nnspec train` runs them, each model
    saved as `nnspec train` saves it. Under torchrun, process 0 prints and writes. `source` is
    the spec's path from `here`, for messages."""
    parser = _Parser(
        prog="train.py", description=f"Trains the models of {spec}.nnspec with PyTorch."
    )
    parser.add_argument(
        "--train",
        help="the train block to run: its number or its model's name (default: all)",
    )
    parser.add_argument(
        "--epochs", type=_positive, help="epochs (default: each block's)"
    )
    parser.add_argument(
        "--out",
        "-o",
        help=f"where the trained model goes (default: out/{spec}/MODEL, as nnspec train)",
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="DIR",
        help="start from a model nnspec train or train.py saved (default: nnspec's initial weights)",
    )
    parser.add_argument(
        "--device",
        default="auto",
        help="cpu, cuda, cuda:N or auto (default: a GPU when there is one)",
    )
    args = parser.parse_args(argv)
    world = None
    try:
        chosen = list(enumerate(blocks, 1))
        saved_model = None
        if args.start:
            saved_model = read_json(os.path.join(args.start, "nnspec.json")).get(
                "model"
            )
        if args.train is not None:
            chosen = [
                (i, b)
                for i, b in chosen
                if str(i) == args.train or b["model"] == args.train
            ]
            if not chosen:
                raise UserError(
                    f"{spec}.nnspec has no train block {args.train} (give its number, 1 to "
                    f"{len(blocks)}, or its model's name)"
                )
        elif saved_model is not None:
            chosen = [(i, b) for i, b in chosen if b["model"] == saved_model]
            if not chosen:
                raise UserError(
                    f"{spec}.nnspec has no train block for `{saved_model}`, the model saved in {args.start}"
                )
        jobs = []
        for i, block in chosen:
            init = os.path.join(here, "init", block["folder"])
            if not os.path.isdir(init):
                root = os.path.relpath(os.path.dirname(here))
                spec_path = os.path.relpath(os.path.join(here, source))
                raise UserError(
                    f"{os.path.relpath(here)} holds code only: prepare its data and initial "
                    f"weights with `npx nnspec build {spec_path} --target pytorch -o {root}`"
                )
            if args.start:
                check_start(args.start, init)
            if args.out is None:
                out = os.path.join("out", spec, block["run"])
            else:
                out = (
                    args.out
                    if len(chosen) == 1
                    else os.path.join(args.out, block["run"])
                )
            why = writable_folder(out)
            if why:
                raise UserError(why)
            jobs.append((i, block, init, out))
        world = World(args.device)
        say = log if world.rank == 0 else (lambda *_: None)
        for i, block, init, out in jobs:
            say(f"{block['model']} (train {i})")
            data = os.path.join(here, "data", block["folder"])
            epochs = args.epochs or block["epochs"]
            module, result = train_block(
                models[block["model"]],
                block,
                data,
                args.start or init,
                epochs,
                world,
                say,
                folds=not args.start,
            )
            if world.rank == 0:
                written = save_model(module, init, out, result)
                say(f"wrote {out}{os.sep}: {', '.join(written)}")
            world.barrier()
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    finally:
        if world is not None:
            world.close()
    return 0
