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
  On a 1-D spec the convs are 1-D (kernel 3, then 1).
- ``convac``: the same representation, then per layer [1x1 conv to r_l, product pooling],
  then linear to Y. Each node's vector is divided by its RMS after pooling, which multiplies
  the network's output by a positive input-dependent factor: the predicted class and the
  separation ranks are those of the ConvAC, only the logits' scale differs.

Any grid geometry: with ``input.order`` in the spec (e.g. written by ``widthdesign arrange``)
the model permutes its input first (grid slot ``s`` reads input ``order[s]``), so it is fed
the data in the inputs' own order. :func:`build_model` is the one call that turns a spec and
widths into a ``torch.nn.Module``::

    arch = widthdesign.load("arranged.toml")
    model = widthdesign.train.build_model(arch, arch.widths)   # (n, 1, *grid) -> (n, Y)

Other tasks: :func:`make_symmetry` (mirror-symmetric strokes vs one stroke changed) and
:func:`make_tabular` (sklearn's bundled breast-cancer table, padded to a 1-D grid).

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
    "make_symmetry",
    "make_tabular",
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


def _stroke(canvas: np.ndarray, rng: np.random.Generator, cols: int) -> None:
    """Draw one random straight stroke (2 px wide, 4-12 px long) in columns ``[0, cols)``."""
    h = canvas.shape[0]
    r0, c0 = rng.uniform(0, h - 1), rng.uniform(0, cols - 1)
    angle, length = rng.uniform(0, 2 * math.pi), rng.uniform(4, 12)
    t = np.linspace(0, 1, 32)
    rr = np.clip(r0 + t * length * math.sin(angle), 0, h - 1)
    cc = np.clip(c0 + t * length * math.cos(angle), 0, cols - 1)
    for dr in (0, 1):
        canvas[np.minimum(rr.astype(int) + dr, h - 1), cc.astype(int)] = 1.0


def make_symmetry(
    n_train: int = 8000, n_test: int = 3000, size: int = 32, strokes: int = 3, seed: int = 0
) -> TaskData:
    """Mirror symmetry of random strokes on a ``size`` x ``size`` canvas (numpy only).

    Class 1: ``strokes`` random strokes drawn on the left half, the right half their exact
    mirror image (left-right). Class 0: the same, except that the right half mirrors a copy
    in which one stroke was replaced by a new random one. Half the samples of each class.

    >>> d = make_symmetry(4, 2, size=8, seed=0)
    >>> d.x_train.shape, sorted(set(d.y_train.tolist()))
    ((4, 1, 8, 8), [0, 1])
    >>> sym = d.x_train[d.y_train == 1][0, 0]
    >>> bool((sym == sym[:, ::-1]).all())
    True
    """
    if size < 4 or size % 2:
        raise SpecError("size", size, "an even canvas size of at least 4")
    rng = np.random.default_rng([seed, 23])
    half = size // 2

    def sample(label: int) -> np.ndarray:
        while True:
            parts = []
            for _ in range(strokes):
                part = np.zeros((size, half), np.float32)
                _stroke(part, rng, half)
                parts.append(part)
            left = np.max(parts, axis=0)
            if label == 1:
                right = left
            else:
                parts[int(rng.integers(strokes))] = np.zeros((size, half), np.float32)
                _stroke(parts[int(rng.integers(strokes))], rng, half)
                right = np.max(parts, axis=0)
            if label == 1 or (right != left).any():  # class 0 is never symmetric
                return np.concatenate([left, right[:, ::-1]], axis=1)

    def batch(n: int) -> tuple[np.ndarray, np.ndarray]:
        y = (np.arange(n) % 2).astype(np.int64)
        rng.shuffle(y)
        x = np.stack([sample(int(label)) for label in y])[:, None]
        return x.astype(np.float32), y

    x_tr, y_tr = batch(n_train)
    x_te, y_te = batch(n_test)
    return TaskData(x_tr, y_tr, x_te, y_te)


def make_tabular(size: int = 32, n_train: int = 400, seed: int = 0) -> TaskData:
    """sklearn's bundled breast-cancer table (569 samples, 30 features, 2 classes) on a 1-D
    grid of ``size`` inputs: features standardized on the training rows, zero-padded past 30
    (constant inputs). Rows split ``n_train`` / the rest by ``seed``. ``x`` is
    ``(n, 1, size)``; the features keep the table's column order."""
    from sklearn.datasets import load_breast_cancer

    bunch = load_breast_cancer()
    x, y = bunch.data.astype(np.float64), bunch.target.astype(np.int64)
    if size < x.shape[1]:
        raise SpecError("size", size, f"at least the table's {x.shape[1]} features")
    perm = np.random.default_rng([seed, 31]).permutation(len(x))
    tr, te = perm[:n_train], perm[n_train:]
    mean, std = x[tr].mean(axis=0), x[tr].std(axis=0)
    x = (x - mean) / np.where(std > 0, std, 1)
    pad = np.zeros((len(x), size), np.float32)
    pad[:, : x.shape[1]] = x
    pad = pad[:, None]
    return TaskData(pad[tr], y[tr], pad[te], y[te])


# -- models ------------------------------------------------------------------------------------


def _check(arch: Architecture, widths) -> tuple[int, ...]:
    widths = tuple(int(w) for w in widths)
    if len(widths) != arch.depth:
        raise SpecError("widths", list(widths), f"{arch.depth} widths, one per layer")
    if any(w < 1 for w in widths):
        raise SpecError("widths", list(widths), "positive widths")
    if len(arch.shape) not in (1, 2) or arch.tree is not None:
        raise SpecError("shape", list(arch.shape), "a 1-D or 2-D grid spec (no explicit tree)")
    if arch.overlapping:  # the models pool non-overlapping windows: refuse, never mistrain
        raise SpecError(
            "stride",
            "below the window",
            "non-overlapping windows (the models built here pool with stride = window)",
        )
    return widths


def fixed_param_count(arch: Architecture, widths, flavor: str = "relu") -> int:
    """Trainable parameters outside widthdesign's ``params`` cost model.

    The 3x3 representation conv (9 M weights, 3 M in 1-D; no bias), the classifier bias (Y) and, in the
    ReLU net, BatchNorm's scale and shift (2 r_l per layer), in the ConvAC the
    representation's bias (M) and one temperature. 1x1 convs have no bias (BatchNorm
    follows them in the ReLU net; the ConvAC is bias-free).
    """
    widths = _check(arch, widths)
    # BatchNorm, or the ConvAC's representation bias and temperature
    extra = 2 * sum(widths) if flavor == "relu" else arch.channels + 1
    kernel = 3 ** len(arch.shape)
    return kernel * arch.channels + arch.classes + extra


def param_count(arch: Architecture, widths, flavor: str = "relu") -> int:
    """Trainable parameters of :func:`build_model`: ``cost(arch, "params")`` + the fixed parts."""
    return cost(arch, "params", _check(arch, widths)) + fixed_param_count(arch, widths, flavor)


def build_model(arch: Architecture, widths=None, flavor: str = "relu", seed: int = 0) -> Any:
    """A ``torch.nn.Module`` for the spec: ``(n, 1, *grid)`` (or ``(n, *grid)``, or
    ``(n, N)``) inputs to ``(n, Y)`` logits, with the spec's widths unless ``widths`` given.

    1-D and 2-D grid specs, any windows; ``input.order`` is applied to the input before the
    first layer (slot ``s`` reads input ``order[s]``), so data stays in its own order.
    """
    import torch
    from torch import nn

    widths = _check(arch, arch.require_widths() if widths is None else widths)
    if flavor not in FLAVORS:
        raise SpecError("flavor", flavor, "one of " + ", ".join(FLAVORS))
    torch.manual_seed(seed)
    one_d = len(arch.shape) == 1
    conv_cls, norm_cls = (nn.Conv1d, nn.BatchNorm1d) if one_d else (nn.Conv2d, nn.BatchNorm2d)
    max_pool = nn.functional.max_pool1d if one_d else nn.functional.max_pool2d
    shape = tuple(arch.shape)
    order = None if arch.order is None else torch.tensor(arch.order, dtype=torch.long)

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            # the ConvAC's representation needs a bias: a zero background would zero every product
            self.rep = conv_cls(1, arch.channels, 3, padding=1, bias=flavor == "convac")
            nn.init.kaiming_normal_(self.rep.weight, nonlinearity="linear")
            self.convs = nn.ModuleList()
            self.norms = nn.ModuleList()
            prev = arch.channels
            for width in widths:
                conv = conv_cls(prev, width, 1, bias=False)
                nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
                self.convs.append(conv)
                self.norms.append(norm_cls(width) if flavor == "relu" else nn.Identity())
                prev = width
            self.pools = [tuple(p) for p in arch.pools]
            self.head = nn.Linear(prev, arch.classes)
            nn.init.zeros_(self.head.weight)  # zero classifier: every design starts at chance
            nn.init.zeros_(self.head.bias)
            # ConvAC logits are RMS-normalized (scale-free); a learned temperature sets their scale
            self.scale = nn.Parameter(torch.tensor(0.0)) if flavor == "convac" else None
            if order is not None:
                self.register_buffer("order", order)
            else:
                self.order = None

        def forward(self, x):
            n = x.shape[0]
            if self.order is not None:  # slot s reads input order[s]
                x = x.reshape(n, -1)[:, self.order]
            if x.dim() != len(shape) + 2:
                x = x.reshape(n, 1, *shape)
            x = self.rep(x)
            for conv, norm, pool in zip(self.convs, self.norms, self.pools):
                x = conv(x)
                if flavor == "relu":
                    x = torch.relu(norm(max_pool(x, pool)))
                else:
                    x = _product_pool(x, pool)
            x = x.flatten(1)
            if self.scale is None:
                return self.head(x)
            return self.head(x) * torch.exp(self.scale)

    return Net()


def _product_pool(x, pool):
    """Product over each pooling window, then divide every position's vector by its RMS."""
    if x.dim() == 3:
        n, c, length = x.shape
        x = x.reshape(n, c, length // pool[0], pool[0]).prod(dim=3)
    else:
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
    cl = _memory_format(arch, data.x_train)
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
    accuracy = evaluate(model, data.x_test, data.y_test, batch=512, memory_format=cl)
    return {
        "accuracy": accuracy,
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "params": sum(p.numel() for p in model.parameters()),
        "seconds": time.perf_counter() - start,
    }


def _memory_format(arch: Architecture, x: np.ndarray):
    import torch

    # channels-last exists for 4-D tensors only; a permuted input is reshaped anyway
    if x.ndim == 4 and arch.order is None:
        return torch.channels_last
    return torch.contiguous_format


def evaluate(model, x: np.ndarray, y: np.ndarray, batch: int = 512, memory_format=None) -> float:
    """Fraction of ``x`` that ``model`` (in eval mode) classifies as ``y``."""
    import torch

    fmt = torch.channels_last if memory_format is None and x.ndim == 4 else memory_format
    fmt = fmt or torch.contiguous_format
    model.eval()
    correct = 0
    with torch.no_grad():
        for k in range(0, len(x), batch):
            xb = torch.from_numpy(x[k : k + batch]).contiguous(memory_format=fmt)
            pred = model(xb).argmax(1)
            correct += int((pred == torch.from_numpy(y[k : k + batch])).sum())
    return correct / max(len(x), 1)
