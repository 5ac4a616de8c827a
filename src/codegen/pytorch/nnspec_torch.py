"""nnspec's PyTorch helper: what generated packages import instead of copying.

Layers whose PyTorch counterparts compute something else (batch norm's running statistics,
TensorFlow's "same" pooling), and reading and writing nnspec's saved models (TensorFlow.js
Layers format: model.json with a weights manifest, weights.bin little-endian float32).
"""

import json
import math
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
    """The module's weights in the interpreter's layout, in the module's precision: name -> array."""
    return {
        name: _interpreted(_tensor_at(module, path), convert)
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
        n = x.numel()
        draws = [self.rng.uniform() for _ in range(n)]
        keep = torch.tensor(draws, dtype=torch.float64, device=x.device) >= self.rate
        mask = keep.to(x.dtype).reshape(x.shape) * (1 / (1 - self.rate))
        return x * mask


def _target(y, k, smooth, sparse):
    if sparse:
        return F.one_hot(y.long().clamp(0, k - 1).reshape(-1), k).to(torch.float32)
    t = y.reshape(-1, k)
    return t * (1 - smooth) + smooth / k if smooth else t


def loss_value(name, opts, pred, y):
    """The loss of a batch as the interpreter computes it (mean over values or rows)."""
    logits = opts.get("from_logits") is True
    if name == "mse":
        return ((pred - y.reshape(pred.shape)) ** 2).mean()
    if name == "mae":
        return (pred - y.reshape(pred.shape)).abs().mean()
    if name == "huber":
        delta = opts["delta"]
        e = pred - y.reshape(pred.shape)
        a = e.abs()
        return torch.where(
            a <= delta, 0.5 * e * e, delta * a - 0.5 * delta * delta
        ).mean()
    if name == "binary_cross_entropy":
        ls = opts.get("label_smoothing", 0)
        t = y.reshape(pred.shape)
        t = t * (1 - ls) + 0.5 * ls if ls else t
        x = (
            pred
            if logits
            else torch.log((q := pred.clamp(EPSILON, 1 - EPSILON)) / (1 - q))
        )
        return (x.clamp(min=0) - x * t + torch.log1p(torch.exp(-x.abs()))).mean()
    if name in ("cross_entropy", "sparse_cross_entropy"):
        k = pred.shape[-1]
        rows = pred.numel() // k
        p = pred.reshape(rows, k)
        sparse = name == "sparse_cross_entropy" or (
            y.numel() == rows and k > 1 and y.numel() != pred.numel()
        )
        smooth = 0 if sparse else opts.get("label_smoothing", 0)
        t = _target(y, k, smooth, sparse)
        if logits:
            lse = torch.logsumexp(p, dim=1, keepdim=True)
            return (t * (lse - p)).sum(dim=1).mean()
        v = p.clamp(EPSILON, 1 - EPSILON) if name == "sparse_cross_entropy" else p
        q = v / v.sum(dim=1, keepdim=True)
        return -(t * torch.log(q.clamp(EPSILON, 1 - EPSILON))).sum(dim=1).mean()
    raise ValueError(f"no loss `{name}`")


def penalty(module):
    """The L1/L2 penalty of the weights that have one: l1 * sum|w| + l2 * sum w^2."""
    total = 0.0
    for name, (l1, l2) in type(module).PENALTIES.items():
        w = _tensor_at(module, type(module).WEIGHTS[name][0])
        total = total + l1 * w.abs().sum() + l2 * (w * w).sum()
    return total


class Updater:
    """The interpreter's update rules, applied in place to the parameters' gradients."""

    def __init__(self, name, opts, params):
        self.name = name
        self.opts = opts
        self.params = [p for p in params if p.requires_grad]
        self.base_lr = opts["lr"]
        # state per parameter, as many buffers as the rule keeps (rmsprop: square, momentum, mean)
        first = opts.get("initial_accumulator", 0) if name == "adagrad" else 0
        kept = {"adagrad": 1, "rmsprop": 3, "adam": 2, "adamw": 2}.get(name, 1)
        self.a = [torch.full_like(p, first) for p in self.params]
        self.b = [torch.zeros_like(p) for p in self.params] if kept > 1 else []
        self.c = [torch.zeros_like(p) for p in self.params] if kept > 2 else []
        self.acc1 = opts.get("beta1", 0)
        self.acc2 = opts.get("beta2", 0)

    @torch.no_grad()
    def step(self, lr):
        o = self.opts
        name = self.name
        for k, w in enumerate(self.params):
            g = w.grad
            if name in ("sgd", "momentum"):
                m = o["momentum"]
                if name == "sgd" and m == 0:
                    w -= lr * g
                    continue
                a = self.a[k]
                a.mul_(m).add_(g)
                w -= lr * (g + a * m) if o.get("nesterov") else lr * a
            elif name == "adagrad":
                a = self.a[k]
                a.add_(g * g)
                w -= lr * g / torch.sqrt(a + 1e-7)
            elif name == "rmsprop":
                rho, mom, eps = o["rho"], o["momentum"], o["epsilon"]
                s, v, c = self.a[k], self.b[k], self.c[k]
                s.mul_(rho).add_((1 - rho) * g * g)
                if o.get("centered"):
                    c.mul_(rho).add_((1 - rho) * g)
                    denom = torch.sqrt((s - c * c).clamp(min=0) + eps)
                else:
                    denom = torch.sqrt(s + eps)
                v.mul_(mom).add_(lr * g / denom)
                w -= v
            elif name in ("adam", "adamw"):
                b1, b2, eps = o["beta1"], o["beta2"], o["epsilon"]
                wd = o["weight_decay"] if name == "adamw" else 0
                m, v = self.a[k], self.b[k]
                m.mul_(b1).add_((1 - b1) * g)
                v.mul_(b2).add_((1 - b2) * g * g)
                c1 = 1 / (1 - self.acc1)
                c2 = 1 / (1 - self.acc2)
                if wd:
                    w.mul_(1 - lr * wd)
                w -= lr * m * c1 / (torch.sqrt(v * c2) + eps)
            else:
                raise ValueError(f"no update rule for `{name}`")
        if name in ("adam", "adamw"):
            self.acc1 *= o["beta1"]
            self.acc2 *= o["beta2"]


def seed_dropout(module, seed):
    """Points every dropout layer at its stream under the model's seed, as the interpreter does."""
    for m in module.modules():
        if isinstance(m, Dropout):
            m.reseed(seed)


# -- a whole run, as `nnspec train` runs it: what train.py calls --


def read_npy(folder, name):
    return torch.from_numpy(np.load(os.path.join(folder, name + ".npy")))


def _accuracy(loss, opts, pred, y):
    """Accuracy of a classification batch as the interpreter counts it; None for regression."""
    if loss in ("cross_entropy", "sparse_cross_entropy") and pred.shape[-1] > 1:
        k = pred.shape[-1]
        p = pred.reshape(-1, k).argmax(dim=1)
        t = (
            y.reshape(-1).long()
            if y.numel() == p.numel()
            else y.reshape(-1, k).argmax(dim=1)
        )
        return (p == t).double().mean().item()
    if loss == "binary_cross_entropy":
        cut = 0.0 if opts.get("from_logits") is True else 0.5
        return (
            ((pred.reshape(-1) > cut) == (y.reshape(-1) > 0.5)).double().mean().item()
        )
    return None


def evaluate(module, x, y, block, batch=256):
    """Loss (with the penalties) and accuracy over a whole split, in inference mode."""
    module.eval()
    with torch.no_grad():
        preds = torch.cat(
            [module(x[i : i + batch]) for i in range(0, x.shape[0], batch)]
        )
        loss = loss_value(block["loss"], block["loss_opts"], preds, y) + penalty(module)
    return float(loss), _accuracy(block["loss"], block["loss_opts"], preds, y)


def fit(module, block, data, start, epochs, device="cpu", log=print):
    """Trains `module` from the weights in `start` on the prepared splits in `data`.

    As the interpreter's loop: the schedule's rate per epoch (or reduce_on_plateau's), validation
    after each epoch, early stopping on the monitored value with the best weights restored.
    """
    load_weights(module, start)
    seed_dropout(module, block["seed"])
    module.to(device)
    x = read_npy(data, "train_x").to(device)
    y = read_npy(data, "train_y").to(device)
    val = None
    if os.path.exists(os.path.join(data, "val_x.npy")):
        val = (read_npy(data, "val_x").to(device), read_npy(data, "val_y").to(device))
    n = x.shape[0]
    batch = max(1, min(block["batch"], n))
    updater = Updater(block["optimizer"], block["optimizer_opts"], module.parameters())
    es = block.get("early_stopping")
    plateau = block.get("plateau")
    monitor = es["monitor"] if es else ("val_loss" if val is not None else "loss")
    if monitor.startswith("val_") and val is None and (es or plateau):
        log(
            f"note: there is no validation split, so `{monitor}` is watched on the training split"
        )
        monitor = monitor[4:]
    higher = monitor.endswith("accuracy")

    def better(a, b, delta):
        return a > b + delta if higher else a < b - delta

    best = -math.inf if higher else math.inf
    plateau_best, plateau_wait, plateau_lr = best, 0, updater.base_lr
    best_epoch, best_state, wait = None, None, 0
    for epoch in range(epochs):
        lr = plateau_lr if plateau else block["lr"](updater.base_lr, epoch)
        order = torch.tensor(epoch_order(n, block["seed"], epoch), device=device)
        module.train()
        total, right = 0.0, 0.0
        for start_row in range(0, n, batch):
            rows = order[start_row : start_row + batch]
            for p in module.parameters():
                p.grad = None
            out = module(x[rows])
            loss = loss_value(block["loss"], block["loss_opts"], out, y[rows])
            loss = loss + penalty(module)
            loss.backward()
            updater.step(lr)
            total += float(loss) * rows.numel()
            acc = _accuracy(block["loss"], block["loss_opts"], out.detach(), y[rows])
            right += (acc or 0.0) * rows.numel()
        values = {"loss": total / n, "accuracy": right / n}
        shown = f"epoch {epoch + 1:>3}/{epochs}  loss {values['loss']:.4f}"
        if val is not None:
            values["val_loss"], values["val_accuracy"] = evaluate(module, *val, block)
            shown += f"  val_loss {values['val_loss']:.4f}"
        log(shown)
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
    if os.path.exists(os.path.join(data, "test_x.npy")):
        tx = read_npy(data, "test_x").to(device)
        ty = read_npy(data, "test_y").to(device)
        loss, acc = evaluate(module, tx, ty, block)
        shown = f"  accuracy {acc:.4f}" if acc is not None else ""
        log(f"test ({tx.shape[0]} examples): loss {loss:.4f}{shown}")
    return module
