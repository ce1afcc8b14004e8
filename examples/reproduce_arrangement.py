"""Does arranging the inputs for the data train better? Validation of ``widthdesign arrange``.

Trains the ReLU / max-pool model of :mod:`widthdesign.train` (uniform widths 21 x 5 on the
32x32 tasks) with the input order given by each cell, 3 seeds, paired:

- ``symmetry`` (mirror-symmetric strokes vs one stroke changed, 2 classes): ``natural``
  order, ``mirror`` pooling (hand-made: each 2x2 window holds two mirror pairs), ``arranged``
  (``arrange`` on the natural training images), ``arranged-perm`` (``arrange`` on
  training images whose pixels were randomly permuted first) and ``tree`` (``arrange
  --method tree`` on the permuted images);
- ``global`` / ``local`` digits (docs/training.md) under a fixed random pixel permutation:
  ``natural``, ``permuted``, ``tree`` / ``layout`` (``arrange --method``) and ``arranged``
  (the default method) computed from the permuted training images;
- ``tabular``: sklearn's breast-cancer table (30 features padded to a 1-D grid of 32, windows
  of 2): ``natural`` column order, ``permuted`` (a random column order) and ``arranged``
  (the default, from the permuted training rows).

Arrangements use training inputs only. A cell whose order equals another's for the same task
and seed (e.g. ``arranged`` choosing the layout) is trained once and reported under both.
Prints Markdown tables (mean +- std, paired differences vs the baseline, wins; on the digits
the fraction of the permutation's loss recovered). ``--json OUT`` writes one record per run
(rewritten after every run); ``--resume OUT`` reuses matching records. Progress on stderr.

    python examples/reproduce_arrangement.py --quick          # a few minutes on 2 cores
    python examples/reproduce_arrangement.py --json docs/img/arrangement-runs.json \\
        --resume docs/img/arrangement-runs.json               # the run of docs/arrangement.md
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np

import widthdesign as wd
from widthdesign import train
from widthdesign.spec import Architecture, Layer, atomic_write_text

HERE = Path(__file__).resolve().parent
SPEC = HERE / "digits_32x32.toml"
CELLS = {
    "symmetry": ("natural", "mirror", "arranged", "arranged-perm", "tree"),
    "global": ("natural", "permuted", "tree", "layout", "arranged"),
    "local": ("natural", "permuted", "tree", "layout", "arranged"),
    "tabular": ("natural", "permuted", "arranged"),
}
BASELINE = {"symmetry": "natural", "global": "permuted", "local": "permuted", "tabular": "permuted"}
#: The fixed pixel / column permutation of the permuted cells (the same for every seed).
PERMUTATION_SEED = 1234


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", nargs="+", default=list(CELLS), choices=list(CELLS))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--width", type=int, default=21, help="uniform width of every layer")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=8000)
    ap.add_argument("--n-test", type=int, default=3000)
    ap.add_argument("--tabular-epochs", type=int, default=40)
    ap.add_argument("--quick", action="store_true", help="2000 samples, 4 epochs, 1 seed")
    ap.add_argument("--json", help="write one record per run here (rewritten after each run)")
    ap.add_argument("--resume", help="reuse the matching records of this JSON file")
    ap.add_argument("--no-train", action="store_true", help="only report --resume records")
    ap.add_argument(
        "--figures",
        metavar="DIR",
        help="also draw DIR/arrangement-profile.png and DIR/arrangement-layout.png (seed 0)",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.n_train, args.n_test, args.epochs, args.seeds = 2000, 500, 4, 1
        args.tabular_epochs = 20
    return args


def config(args) -> dict:
    keys = ("width", "epochs", "n_train", "n_test", "tabular_epochs")
    return {k: getattr(args, k) for k in keys}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- tasks, specs and orders -------------------------------------------------------------


def spec_for(task: str, width: int) -> Architecture:
    if task == "tabular":  # 32 inputs, windows of 2 five times
        return Architecture(
            shape=(32,), channels=8, layers=[Layer(width, 2)] * 4 + [Layer(width)], classes=2
        )
    arch = wd.load(SPEC).with_widths((width,) * 5)
    return replace(arch, classes=2) if task == "symmetry" else arch


@lru_cache(maxsize=1)
def task_data(task: str, n_train: int, n_test: int, seed: int) -> train.TaskData:
    if task == "symmetry":
        return train.make_symmetry(n_train, n_test, seed=seed)
    if task == "tabular":
        return train.make_tabular(seed=seed)
    return train.make_task(task, n_train=n_train, n_test=n_test, seed=seed)


def permutation(n: int) -> np.ndarray:
    return np.random.default_rng(PERMUTATION_SEED).permutation(n)


def mirror_order(h: int = 32, w: int = 32) -> np.ndarray:
    """Slot (r, 2k) holds pixel (r, k) and slot (r, 2k + 1) its mirror image (r, w - 1 - k):
    every 2x2 window pools two mirror pairs, and larger windows mirror-symmetric blocks."""
    order = np.empty((h, w), dtype=np.int64)
    for k in range(w // 2):
        order[:, 2 * k] = np.arange(h) * w + k
        order[:, 2 * k + 1] = np.arange(h) * w + (w - 1 - k)
    return order.ravel()


def mirror_fraction(order: np.ndarray, h: int = 32, w: int = 32) -> float:
    """Fraction of the 2x2 first-level windows holding at least one mirror pair."""
    win = order.reshape(h // 2, 2, w // 2, 2).transpose(0, 2, 1, 3).reshape(-1, 4)
    r, c = np.divmod(win, w)
    mirror = r * w + (w - 1 - c)
    hits = [bool(set(m.tolist()) & set(x.tolist())) for x, m in zip(win, mirror)]
    return float(np.mean(hits))


def cell_order(task: str, cell: str, arch: Architecture, data: train.TaskData, seed: int):
    """``(order over the data's own inputs, info)``: slot s of the model reads input order[s]
    of the data as stored (natural pixels / columns)."""
    n = arch.num_inputs
    x = data.x_train.reshape(len(data.x_train), n)
    natural = np.arange(n)
    if cell == "natural":
        return natural, {}
    if cell == "mirror":
        return mirror_order(), {}
    perm = permutation(n)
    if cell == "permuted":
        return perm, {}
    if cell == "arranged":
        if task == "symmetry":  # from the natural images
            return _arranged(arch, x, natural, seed, "auto")
        return _arranged(arch, x, perm, seed, "auto")
    if cell == "arranged-perm":
        return _arranged(arch, x, perm, seed, "auto")
    if cell in ("tree", "layout"):
        return _arranged(arch, x, perm, seed, cell)
    raise ValueError(cell)


def _arranged(arch, x, perm, seed, method):
    """Arrange the columns ``x[:, perm]`` (what a user holding permuted data has), then map
    the order back to the data's own columns."""
    start = time.perf_counter()
    arr = wd.arrange(arch, x[:, perm], seed=seed, method=method)
    order = perm[np.asarray(arr.order)]
    info = {
        "method": arr.result.method,
        "arrange_seconds": round(time.perf_counter() - start, 2),
        "cut": round(arr.result.cut["arrangement"]["total"], 1),
    }
    return order, info


def order_hash(order: np.ndarray) -> str:
    return hashlib.sha1(np.asarray(order, dtype=np.int64).tobytes()).hexdigest()[:12]


# -- training --------------------------------------------------------------------------------


def run_cell(args, task: str, cell: str, seed: int, done: dict, save) -> None:
    if (task, cell, seed) in done:
        return
    arch = spec_for(task, args.width)
    data = task_data(task, args.n_train, args.n_test, seed)
    order, info = cell_order(task, cell, arch, data, seed)
    if task == "symmetry":
        info["mirror_windows"] = mirror_fraction(order)
    h = order_hash(order)
    twin = next(
        (r for r in done.values() if (r["task"], r["seed"], r["order_hash"]) == (task, seed, h)),
        None,
    )
    if twin is not None:  # the same model on the same data: reuse, do not retrain
        res = {k: twin[k] for k in ("accuracy", "seconds", "params")} | {"same_as": twin["cell"]}
    else:
        spec = replace(arch, order=tuple(int(i) for i in order))
        epochs = args.tabular_epochs if task == "tabular" else args.epochs
        batch = 32 if task == "tabular" else 128
        res = train.train_and_eval(spec, spec.widths, data, epochs=epochs, batch=batch, seed=seed)
        res = {k: res[k] for k in ("accuracy", "seconds", "params")}
    rec = {"task": task, "cell": cell, "seed": seed, "order_hash": h} | info | res
    done[(task, cell, seed)] = rec
    save()
    log(f"{task} {cell} seed {seed}: {100 * rec['accuracy']:.1f}% ({rec['seconds']:.0f} s) {info}")


# -- report ----------------------------------------------------------------------------------


def mean_std(xs) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.1f} +- {sd:.1f}"


def table(records: list[dict]) -> str:
    rows = [
        "| task | cell | accuracy % | vs baseline | wins | recovered | method | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by = {}
    for r in records:
        by.setdefault((r["task"], r["cell"]), {})[r["seed"]] = r
    for task, cells in CELLS.items():
        base = by.get((task, BASELINE[task]), {})
        nat = by.get((task, "natural"), {})
        for cell in cells:
            recs = by.get((task, cell))
            if not recs:
                continue
            acc = {s: 100 * r["accuracy"] for s, r in recs.items()}
            diff = wins = rec_ = ""
            seeds = sorted(set(acc) & set(base))
            if cell != BASELINE[task] and seeds:
                d = [acc[s] - 100 * base[s]["accuracy"] for s in seeds]
                diff = ("+" if statistics.mean(d) >= 0 else "") + mean_std(d)
                wins = f"{sum(x > 0 for x in d)}/{len(d)}"
            if task in ("global", "local") and cell not in ("natural", "permuted"):
                both = sorted(set(acc) & set(base) & set(nat))
                if both:
                    lost = statistics.mean(
                        100 * (nat[s]["accuracy"] - base[s]["accuracy"]) for s in both
                    )
                    got = statistics.mean(acc[s] - 100 * base[s]["accuracy"] for s in both)
                    rec_ = f"{100 * got / lost:.0f} %" if lost > 0 else ""
            methods = sorted({r.get("method", "") for r in recs.values()} - {""})
            notes = []
            if task == "symmetry":
                notes.append(
                    "mirror windows "
                    + "/".join(f"{100 * r['mirror_windows']:.0f}%" for r in recs.values())
                )
            same = sorted({r["same_as"] for r in recs.values() if "same_as" in r})
            if same:
                notes.append("same order as " + ", ".join(same))
            rows.append(
                f"| {task} | {cell} | {mean_std(list(acc.values()))} | {diff} | {wins} | "
                f"{rec_} | {', '.join(methods)} | {'; '.join(notes)} |"
            )
    return "\n".join(rows)


# -- figures ---------------------------------------------------------------------------------


def figures(args, folder: Path) -> None:
    """The profile of the global digits (natural, permuted, arranged from permuted) and the
    arranged grids of the permuted digits (each slot coloured by where its pixel sits on
    the natural canvas: smooth colours = neighbourhoods put back)."""
    folder.mkdir(parents=True, exist_ok=True)
    from matplotlib.figure import Figure

    from widthdesign.data import profile
    from widthdesign.report.data_profile import plot_profile

    fig = Figure(figsize=(15, 3.8), layout="constrained")
    axes = fig.subplots(1, 3)
    arch = spec_for("global", args.width)
    data = task_data("global", args.n_train, args.n_test, 0)
    x = data.x_train.reshape(len(data.x_train), -1)
    perm = permutation(arch.num_inputs)
    arranged, _ = _arranged(arch, x, perm, 0, "auto")
    for ax, (name, order) in zip(
        axes, (("natural", None), ("permuted", perm), ("arranged from permuted", arranged))
    ):
        prof = profile(arch, x, order=order)
        plot_profile(prof, ax=ax, title=f"global digits, {name} order (total {prof.total:.0f})")
    fig.savefig(folder / "arrangement-profile.png", dpi=90)
    fig = Figure(figsize=(12, 4.2), layout="constrained")
    axes = fig.subplots(1, 3)
    for ax, task in zip(axes, ("global", "local")):
        data = task_data(task, args.n_train, args.n_test, 0)
        x = data.x_train.reshape(len(data.x_train), -1)
        order, info = _arranged(arch, x, perm, 0, "auto")
        ax.imshow(_colour_grid(order), interpolation="nearest")
        ax.set_title(f"{task} digits: arranged ({info['method']}) from permuted", fontsize=9)
        ax.set_axis_off()
    data = task_data("symmetry", args.n_train, args.n_test, 0)
    x = data.x_train.reshape(len(data.x_train), -1)
    sym = spec_for("symmetry", args.width)
    order, info = _arranged(sym, x, perm, 0, "tree")
    ax = axes[2]
    ax.imshow(_colour_grid(order, mirror=True), interpolation="nearest")
    ax.set_title(
        f"symmetry: tree from permuted ({100 * mirror_fraction(order):.0f}% mirror windows)",
        fontsize=9,
    )
    ax.set_axis_off()
    fig.savefig(folder / "arrangement-layout.png", dpi=90)


def _colour_grid(order: np.ndarray, side: int = 32, mirror: bool = False) -> np.ndarray:
    """RGB image: slot s coloured by the natural (row, column) of pixel order[s] (with
    ``mirror``, the column folded: a pixel and its mirror image get one colour)."""
    r, c = np.divmod(np.asarray(order), side)
    if mirror:
        c = np.minimum(c, side - 1 - c) * 2
    rgb = np.stack([r / (side - 1), c / (side - 1), 1 - (r + c) / (2 * side - 2)], axis=1)
    return rgb.reshape(side, side, 3)


# -- main ----------------------------------------------------------------------------------


def main(argv=None) -> dict:
    args = parse_args(argv)
    t0 = time.monotonic()
    cfg = config(args)
    done: dict[tuple, dict] = {}
    if args.resume and Path(args.resume).exists():
        old = json.loads(Path(args.resume).read_text())
        if old.get("config") == cfg:
            done = {(r["task"], r["cell"], r["seed"]): r for r in old["runs"]}
        else:
            log(f"--resume {args.resume}: other settings ({old.get('config')}); not reused")

    def save() -> None:
        if args.json:
            body = {"config": cfg, "runs": list(done.values())}
            atomic_write_text(Path(args.json), json.dumps(body, indent=1) + "\n")

    if not args.no_train:
        # seed-major: a partial run still has every cell for its first seeds
        for seed in range(args.seeds):
            for task in args.tasks:
                for cell in CELLS[task]:
                    run_cell(args, task, cell, seed, done, save)
    save()
    records = [r for r in done.values() if r["task"] in args.tasks and r["seed"] < args.seeds]
    print(table(records))
    if args.figures:
        figures(args, Path(args.figures))
    log(f"wall time {time.monotonic() - t0:.0f} s")
    return {"records": records}


if __name__ == "__main__":
    main()
    sys.exit(0)
