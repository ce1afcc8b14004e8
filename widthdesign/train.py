"""Train networks with given widths on digit tasks: does a recommended design learn better?

Optional extra ``widthdesign[train]`` (PyTorch and scikit-learn). ``import widthdesign`` does
not import this module; torch is imported inside the functions that need it, so the data
generators and the parameter counts work without torch.

Tasks put one of sklearn's bundled 8x8 digits (``load_digits``: 1797 images, no download) at a
uniformly random position on a blank canvas. The **local** task keeps the digit at 8x8, so its
evidence sits inside small pooling windows; the **global** task upsamples it (24x24 on a 32x32
canvas) so that it spans the top-level split of the pooling tree.

Models, built from an :class:`~widthdesign.spec.Architecture` (its grid, M and pooling
windows) and widths ``r_0 .. r_{L-1}``:

- ``relu``: a linear 3x3 conv 1 -> M (the representation), then per layer
  [1x1 conv to r_l, max-pool by the layer's window, BatchNorm, ReLU], then linear to Y.
- ``convac``: the same representation, then per layer [1x1 conv to r_l, product pooling],
  then linear to Y. Each node's vector is divided by its RMS after pooling, which multiplies
  the network's output by a positive input-dependent factor: the predicted class and the
  separation ranks are those of the ConvAC, only the logits' scale differs.

>>> data = make_task("local", n_train=4, n_test=2, seed=0)
>>> data.x_train.shape, data.y_train.shape, data.x_test.shape
((4, 1, 32, 32), (4,), (2, 1, 32, 32))
>>> from widthdesign.spec import loads
>>> arch = loads('''
... [input]
... shape = [4, 4]
... channels = 2
... [[layers]]
... width = 3
... pool = [2, 2]
... [[layers]]
... width = 5
... pool = [2, 2]
... [output]
... classes = 10
... ''')
>>> cost(arch, "params", (3, 5)), fixed_param_count(arch, (3, 5))   # 2*3 + 3*5 + 5*10; 9M+Y+2*8
(71, 44)
>>> param_count(arch, (3, 5))
115
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .errors import SpecError
from .spec import Architecture, cost

__all__ = [
    "TASKS",
    "FLAVORS",
    "TaskData",
    "make_task",
    "place_digits",
    "param_count",
    "fixed_param_count",
    "build_model",
    "train_and_eval",
]

#: Digit size on the canvas per task (the canvas defaults to 32x32).
TASKS = {"local": 8, "global": 24}
#: Model flavours of :func:`build_model`.
FLAVORS = ("relu", "convac")
#: Digits in sklearn's load_digits, and how many go to the training pool.
N_DIGITS, N_TRAIN_DIGITS = 1797, 1200


@dataclass(frozen=True)
class TaskData:
    """Placed digits: images ``(n, 1, canvas, canvas)`` float32 in [0, 1], labels int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray


@lru_cache(maxsize=1)
def _digits() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return (bunch.images / 16.0).astype(np.float32), bunch.target.astype(np.int64)


@lru_cache(maxsize=8)
def _resized(size: int) -> np.ndarray:
    """All digits resized to ``size`` x ``size`` (bilinear; 8 keeps them untouched)."""
    images = _digits()[0]
    if size == 8:
        return images
    from scipy.ndimage import zoom

    out = zoom(images, (1, size / 8, size / 8), order=1, grid_mode=True, mode="nearest")
    return np.clip(out, 0.0, 1.0).astype(np.float32)


def place_digits(
    images: np.ndarray, n: int, canvas: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` canvases, each holding a random image of ``images`` at a uniformly random position.

    Returns the canvases ``(n, 1, canvas, canvas)`` and the chosen image indices.

    >>> x, idx = place_digits(np.ones((3, 2, 2), np.float32), 5, 4, np.random.default_rng(0))
    >>> x.shape, x.sum(axis=(1, 2, 3)).tolist()
    ((5, 1, 4, 4), [4.0, 4.0, 4.0, 4.0, 4.0])
    """
    size = images.shape[-1]
    if size > canvas:
        raise SpecError("digit", size, f"a digit size at most the canvas ({canvas})")
    idx = rng.integers(0, len(images), size=n)
    rows = rng.integers(0, canvas - size + 1, size=n)
    cols = rng.integers(0, canvas - size + 1, size=n)
    x = np.zeros((n, 1, canvas, canvas), np.float32)
    for k in range(n):
        x[k, 0, rows[k] : rows[k] + size, cols[k] : cols[k] + size] = images[idx[k]]
    return x, idx


def make_task(
    task: str,
    n_train: int = 8000,
    n_test: int = 3000,
    canvas: int = 32,
    digit: int | None = None,
    seed: int = 0,
) -> TaskData:
    """Seeded digits-on-a-canvas data for ``task`` (``local`` or ``global``).

    The 1797 digits are split 1200 train / 597 test (by ``seed``) before placement, so no test
    digit is ever seen in training, at any position. ``digit`` overrides the task's digit size
    (:data:`TASKS`); the same arguments always give the same arrays.
    """
    if task not in TASKS:
        raise SpecError("task", task, "one of " + ", ".join(TASKS))
    size = TASKS[task] if digit is None else int(digit)
    if size < 1:
        raise SpecError("digit", size, "a positive digit size")
    images, labels = _resized(size), _digits()[1]
    rng = np.random.default_rng([seed, 11])
    perm = rng.permutation(N_DIGITS)
    train, test = perm[:N_TRAIN_DIGITS], perm[N_TRAIN_DIGITS:]
    x_tr, i_tr = place_digits(images[train], n_train, canvas, rng)
    x_te, i_te = place_digits(images[test], n_test, canvas, rng)
    return TaskData(x_tr, labels[train][i_tr], x_te, labels[test][i_te])


# -- models ------------------------------------------------------------------------------------


def _check(arch: Architecture, widths) -> tuple[int, ...]:
    widths = tuple(int(w) for w in widths)
    if len(widths) != arch.depth:
        raise SpecError("widths", list(widths), f"{arch.depth} widths, one per layer")
    if any(w < 1 for w in widths):
        raise SpecError("widths", list(widths), "positive widths")
    if len(arch.shape) != 2 or arch.tree is not None or arch.order is not None:
        raise SpecError("shape", list(arch.shape), "a 2-D grid spec without tree or order")
    return widths


def fixed_param_count(arch: Architecture, widths, flavor: str = "relu") -> int:
    """Trainable parameters outside widthdesign's ``params`` cost model.

    The 3x3 representation conv (9 M weights, no bias), the classifier bias (Y) and, in the
    ReLU net, BatchNorm's scale and shift (2 r_l per layer), in the ConvAC the
    representation's bias (M) and one temperature. 1x1 convs have no bias (BatchNorm
    follows them in the ReLU net; the ConvAC is bias-free).
    """
    widths = _check(arch, widths)
    # BatchNorm, or the ConvAC's representation bias and temperature
    extra = 2 * sum(widths) if flavor == "relu" else arch.channels + 1
    return 9 * arch.channels + arch.classes + extra


def param_count(arch: Architecture, widths, flavor: str = "relu") -> int:
    """Trainable parameters of :func:`build_model`: ``cost(arch, "params")`` + the fixed parts."""
    return cost(arch, "params", _check(arch, widths)) + fixed_param_count(arch, widths, flavor)


def build_model(arch: Architecture, widths, flavor: str = "relu", seed: int = 0) -> Any:
    """A ``torch.nn.Module`` mapping ``(n, 1, H, W)`` images to ``(n, Y)`` logits."""
    import torch
    from torch import nn

    widths = _check(arch, widths)
    if flavor not in FLAVORS:
        raise SpecError("flavor", flavor, "one of " + ", ".join(FLAVORS))
    torch.manual_seed(seed)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # the ConvAC's representation needs a bias: a zero background would zero every product
            self.rep = nn.Conv2d(1, arch.channels, 3, padding=1, bias=flavor == "convac")
            nn.init.kaiming_normal_(self.rep.weight, nonlinearity="linear")
            self.convs = nn.ModuleList()
            self.norms = nn.ModuleList()
            prev = arch.channels
            for width in widths:
                conv = nn.Conv2d(prev, width, 1, bias=False)
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                self.convs.append(conv)
                self.norms.append(nn.BatchNorm2d(width) if flavor == "relu" else nn.Identity())
                prev = width
            self.pools = [tuple(p) for p in arch.pools]
            self.head = nn.Linear(prev, arch.classes)
            nn.init.zeros_(self.head.weight)  # zero classifier: every design starts at chance
            nn.init.zeros_(self.head.bias)
            # ConvAC logits are RMS-normalized (scale-free); a learned temperature sets their scale
            self.scale = nn.Parameter(torch.tensor(0.0)) if flavor == "convac" else None

        def forward(self, x):
            x = self.rep(x)
            for conv, norm, pool in zip(self.convs, self.norms, self.pools):
                x = conv(x)
                if flavor == "relu":
                    x = torch.relu(norm(nn.functional.max_pool2d(x, pool)))
                else:
                    x = _product_pool(x, pool)
            x = x.flatten(1)
            if self.scale is None:
                return self.head(x)
            return self.head(x) * torch.exp(self.scale)

    return Net()


def _product_pool(x, pool):
    """Product over each pooling window, then divide every position's vector by its RMS."""
    n, c, h, w = x.shape
    a, b = pool
    x = x.reshape(n, c, h // a, a, w // b, b).prod(dim=5).prod(dim=3)
    return x / (x.pow(2).mean(dim=1, keepdim=True) + 1e-12).sqrt()


def train_and_eval(
    arch: Architecture,
    widths,
    data: TaskData,
    flavor: str = "relu",
    epochs: int = 8,
    batch: int = 128,
    lr: float = 1e-2,
    seed: int = 0,
    threads: int | None = 1,
) -> dict:
    """Train with Adam and a one-cycle schedule (peak ``lr``); test accuracy and timings.

    Returns ``accuracy`` (fraction of ``data``'s test set), ``first_loss`` and ``last_loss``
    (mean training loss of the first and last epoch), ``params`` and ``seconds`` (wall time of
    training and evaluation). ``threads`` sets torch's intra-op threads (1: one core per run).
    """
    import torch

    if threads is not None:
        torch.set_num_threads(threads)
    start = time.perf_counter()
    # channels-last makes the 1x1 convs plain matrix products: about 2x faster on one CPU core
    cl = torch.channels_last
    model = build_model(arch, widths, flavor, seed).to(memory_format=cl)
    x_tr, y_tr = torch.from_numpy(data.x_train), torch.from_numpy(data.y_train)
    steps = math.ceil(len(x_tr) / batch)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps)
    gen = torch.Generator().manual_seed(seed)
    losses = []
    for _ in range(epochs):
        model.train()
        order, total = torch.randperm(len(x_tr), generator=gen), 0.0
        for k in range(steps):
            idx = order[k * batch : (k + 1) * batch]
            logits = model(x_tr[idx].contiguous(memory_format=cl))
            loss = torch.nn.functional.cross_entropy(logits, y_tr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        losses.append(total / len(x_tr))
    accuracy = evaluate(model, data.x_test, data.y_test, batch=512)
    return {
        "accuracy": accuracy,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "params": sum(p.numel() for p in model.parameters()),
        "seconds": time.perf_counter() - start,
    }


def evaluate(model, x: np.ndarray, y: np.ndarray, batch: int = 512) -> float:
    """Fraction of ``x`` that ``model`` (in eval mode) classifies as ``y``."""
    import torch

    model.eval()
    correct = 0
    with torch.no_grad():
        for k in range(0, len(x), batch):
            xb = torch.from_numpy(x[k : k + batch]).contiguous(memory_format=torch.channels_last)
            pred = model(xb).argmax(1)
            correct += int((pred == torch.from_numpy(y[k : k + batch])).sum())
    return correct / max(len(x), 1)
