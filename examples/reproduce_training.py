"""Does a recommended design train better? Designs compared at matched parameter counts.

For each budget (the ``params`` cost of the wide-base design (4r, 4r, 2r, 2r, r) of
examples/digits_32x32.toml), this trains ReLU / max-pool nets (widthdesign.train) with:

- ``uniform``: the widest uniform width that fits the budget;
- ``wide-base`` (4r, 4r, 2r, 2r, r) and ``wide-tip`` (r, 2r, 2r, 4r, 4r);
- ``local`` / ``global``: ``recommend --favor local`` / ``--favor global`` with its defaults;
- at the ``--grid-r`` budgets, ``local s=S q=Q`` / ``global s=S q=Q``: the recommendation with
  ``--slack S --max-ratio Q`` (trained on its own task only);
- with ``--prototype``: the brute-force prototype designs of issue 11 (r = 8 only);
- with ``--probes``: a design probing the optimizer's top-width floor (r = 8 only);
- with ``--step 4``: at the ``--grid-r`` budgets, ``local step4`` / ``global step4``: the
  default recommendations with candidate widths 4, 8, 12, ... instead of powers of two.

on the local task (8x8 digits on the canvas) and the global task (24x24 digits), for several
seeds (a seed fixes the data placement and the initialisation, so differences are paired).
Identical widths are trained once per task and seed and reported under every name.

Prints a Markdown table (mean +- std of test accuracy, paired differences vs uniform) and,
with ``--json OUT``, writes one record per run (task, r, design, widths, cost, params, seed,
accuracy, seconds); the file is rewritten after every run, and ``--resume OUT`` reuses its
records, so an interrupted run continues where it stopped. Progress goes to stderr.

    python examples/reproduce_training.py --quick            # about a minute on 2 cores
    make train-check                                         # the full run of docs/training.md
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import multiprocessing
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import lru_cache
from pathlib import Path

import widthdesign as wd
from widthdesign import train
from widthdesign.spec import atomic_write_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SPEC = HERE / "digits_32x32.toml"
TASKS = ("global", "local")
BASELINES = ("uniform", "wide-base", "wide-tip")
# Issue 11's brute-force prototype of the normalized objective at the r = 8 budget.
PROTOTYPES = {"prototype-global": (16, 16, 32, 16, 32), "prototype-local": (32, 32, 16, 8, 16)}
# A probe of the optimizer's top-width floor (top width >= Y = 10) at the r = 8 budget; the
# min-width floor is probed by the grid's own designs with width-2 layers.
PROBES = {"probe top=4": (24, 24, 24, 24, 4)}


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default=str(SPEC), help="architecture spec (grid, M, pools, Y)")
    ap.add_argument("--r", type=int, nargs="+", default=[4, 8, 16], help="budget scales r")
    ap.add_argument("--grid-r", type=int, nargs="*", default=[8], help="r of the slack grid")
    ap.add_argument("--slack", type=float, nargs="*", default=[0.0, 0.05, 0.1, 0.25])
    ap.add_argument("--max-ratio", nargs="*", default=["1.5", "2", "4", "none"])
    ap.add_argument(
        "--cross-r",
        type=int,
        nargs="*",
        default=[4, 8],
        help="r at which the recommendations also train on the other task",
    )
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=TASKS)
    ap.add_argument("--designs", nargs="+", default=[*BASELINES, "local", "global"])
    ap.add_argument("--prototype", action="store_true", help="add issue 11's prototypes")
    ap.add_argument("--probes", action="store_true", help="add the floor probes (r = 8)")
    ap.add_argument(
        "--step",
        type=int,
        default=0,
        help="at the --grid-r budgets, add the default recommendations with candidate widths "
        "STEP, 2 STEP, ... 8r instead of the powers of two (named 'local stepSTEP')",
    )
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--n-train", type=int, default=8000)
    ap.add_argument("--n-test", type=int, default=3000)
    ap.add_argument("--flavor", default="relu", choices=train.FLAVORS)
    ap.add_argument("--workers", type=int, default=2, help="training processes (1 thread each)")
    ap.add_argument("--time-limit", type=float, default=120.0, help="seconds per recommend")
    ap.add_argument(
        "--choices",
        default=None,
        help="candidate widths of the recommendations, comma-separated (default recommend's; "
        "the first run of docs/training.md used the powers of two 1,2,4,...,1024)",
    )
    ap.add_argument(
        "--min-width",
        default="auto",
        help="recommend's width floor (default auto, recommend's default; the powers-of-two "
        "run of docs/training.md used 2)",
    )
    ap.add_argument(
        "--quick", action="store_true", help="r = 4, 4000 samples, 6 epochs, no slack grid"
    )
    ap.add_argument("--json", help="write one record per run here (rewritten after each run)")
    ap.add_argument("--resume", help="reuse the matching records of this JSON file")
    ap.add_argument("--figure", help="draw accuracy vs budget per design (PNG)")
    ap.add_argument(
        "--figure-setting",
        default="0.25/4",
        help="slack/max-ratio of the grid recommendations drawn besides the defaults",
    )
    ap.add_argument(
        "--no-train", action="store_true", help="only report the --resume records (no training)"
    )
    ap.add_argument(
        "--recorded",
        action="store_true",
        help="with --resume: the designs (names and widths) as recorded there, not recomputed "
        "by this recommend (a run of an older version reports as it was measured)",
    )
    args = ap.parse_args(argv)
    if args.quick:
        args.r, args.grid_r, args.epochs, args.n_train, args.n_test = [4], [], 6, 4000, 1000
    args.max_ratio = [None if q.lower() == "none" else float(q) for q in args.max_ratio]
    args.min_width = args.min_width if args.min_width == "auto" else int(args.min_width)
    args.choices = None if args.choices is None else [int(c) for c in args.choices.split(",")]
    return args


def spec_path(spec: str) -> str:
    """The spec as recorded in the JSON: relative to the repository when inside it."""
    path = Path(spec).resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def load_spec(spec: str):
    """Load a recorded spec path (relative ones are relative to the repository)."""
    path = Path(spec)
    return wd.load(path if path.is_absolute() else ROOT / path)


def config(args) -> dict:
    """What makes two runs of the same widths, task and seed comparable."""
    keys = ("epochs", "n_train", "n_test", "flavor")
    return {k: getattr(args, k) for k in keys} | {"spec": Path(args.spec).name}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- designs -------------------------------------------------------------------------------------


def baseline(name: str, r: int, arch, budget: int) -> tuple[int, ...]:
    if name == "wide-base":
        return (4 * r, 4 * r, 2 * r, 2 * r, r)
    if name == "wide-tip":
        return (r, 2 * r, 2 * r, 4 * r, 4 * r)
    u = 1
    while wd.cost(arch, "params", (u + 1,) * arch.depth) <= budget:
        u += 1
    return (u,) * arch.depth


def recommended(arch, budget: int, favor: str, time_limit: float, **settings):
    """The recommendation's widths, or None when there is none (no design meets the floors
    and the ratio bound within the budget, or this widthdesign lacks a setting)."""
    try:
        rec = wd.recommend(arch, budget, favor, time_limit=time_limit, **settings)
    except TypeError:
        log("  this widthdesign's recommend lacks slack/max_ratio: skipped")
        return None
    except wd.WidthDesignError as err:
        log(f"  no design: {err}")
        return None
    return tuple(int(w) for w in rec.widths)


def designs(args, arch) -> list[tuple[str, int, str, tuple[int, ...]]]:
    """``(task, r, name, widths)`` for every design to train."""
    out = []
    for r in args.r:
        budget = wd.cost(arch, "params", baseline("wide-base", r, arch, 0))
        named: dict[str, tuple[int, ...]] = {}
        for name in args.designs:
            if name in BASELINES:
                named[name] = baseline(name, r, arch, budget)
            elif name in ("local", "global"):
                log(f"recommend --favor {name} --budget {budget} (r={r})")
                named[name] = recommended(
                    arch,
                    budget,
                    name,
                    args.time_limit,
                    min_width=args.min_width,
                    choices=args.choices,
                )
        if args.prototype and r == 8:
            named.update(PROTOTYPES)
        if args.probes and r == 8:
            named.update(PROBES)
        own: dict[str, tuple[int, ...]] = {}
        if r in args.grid_r and args.step > 0:
            for favor in ("local", "global"):
                log(f"recommend --favor {favor} --choices {args.step}..{8 * r} step {args.step}")
                choices = list(range(args.step, 8 * r + 1, args.step))
                named[f"{favor} step{args.step}"] = recommended(
                    arch, budget, favor, args.time_limit, choices=choices, min_width=args.min_width
                )
        if r in args.grid_r:
            for favor in ("local", "global"):
                for s in args.slack:
                    for q in args.max_ratio:
                        name = f"{favor} s={s:g} q={'none' if q is None else f'{q:g}'}"
                        log(f"recommend --favor {favor} --slack {s:g} --max-ratio {q} (r={r})")
                        w = recommended(
                            arch,
                            budget,
                            favor,
                            args.time_limit,
                            slack=s,
                            max_ratio=q,
                            min_width=args.min_width,
                            choices=args.choices,
                        )
                        if w is not None:
                            own[name] = w
        for task in args.tasks:
            for n, w in (named | own).items():
                recommendation = n.split()[0] in ("local", "global")
                if w is not None and (
                    not recommendation or n.startswith(task) or (r in args.cross_r and n in named)
                ):
                    out.append((task, r, n, w))
    return out


# -- training ----------------------------------------------------------------------------------


@lru_cache(maxsize=2)
def _data(task: str, n_train: int, n_test: int, seed: int):
    return train.make_task(task, n_train=n_train, n_test=n_test, seed=seed)


def run_one(job: dict) -> dict:
    """Train one (task, widths, seed); runs in a worker process with one torch thread."""
    arch = load_spec(job["spec"])
    data = _data(job["task"], job["n_train"], job["n_test"], job["seed"])
    res = train.train_and_eval(
        arch, job["widths"], data, job["flavor"], epochs=job["epochs"], seed=job["seed"]
    )
    return job | res


def train_all(args, jobs: list[dict], done: dict, save) -> None:
    todo = [j for j in jobs if key(j) not in done]
    arch = wd.load(args.spec)  # longest trainings (most MACs) first: the two workers end together
    todo.sort(key=lambda j: -wd.cost(arch, "macs", j["widths"]))
    log(f"{len(jobs)} trainings, {len(jobs) - len(todo)} reused, {len(todo)} to run")
    start = time.monotonic()

    def finish(res: dict, k: int) -> None:
        done[key(res)] = res
        save()
        log(
            f"[{k}/{len(todo)} {time.monotonic() - start:.0f}s] {res['task']} {res['widths']} "
            f"seed {res['seed']}: {100 * res['accuracy']:.1f}% in {res['seconds']:.0f}s"
        )

    if args.workers <= 1 or len(todo) <= 1:
        for k, job in enumerate(todo, 1):
            finish(run_one(job), k)
        return
    ctx = multiprocessing.get_context("spawn")  # fresh workers: no forked torch state
    with ProcessPoolExecutor(args.workers, mp_context=ctx) as pool:
        futures = [pool.submit(run_one, j) for j in todo]
        for k, fut in enumerate(as_completed(futures), 1):
            finish(fut.result(), k)


def key(rec: dict) -> tuple:
    return rec["task"], tuple(rec["widths"]), rec["seed"]


# -- report --------------------------------------------------------------------------------------


def mean_std(xs: list[float]) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.1f} +- {sd:.1f}"


def table(records: list[dict]) -> str:
    """Markdown table: accuracy % (mean +- std over seeds), paired difference vs uniform."""
    rows = [
        "| task | r | design | widths | params cost | accuracy % | vs uniform | wins |",
        "|---|---|---|---|---|---|---|---|",
    ]
    groups: dict[tuple, list[dict]] = {}
    for rec in records:
        if len(rec["design"].split()) == 3:  # the grid: see grid_table
            continue
        groups.setdefault((rec["task"], rec["r"], rec["design"]), []).append(rec)
    for (task, r, name), recs in sorted(groups.items(), key=lambda g: g[0][:2]):
        acc = {x["seed"]: 100 * x["accuracy"] for x in recs}
        uni = {x["seed"]: 100 * x["accuracy"] for x in groups.get((task, r, "uniform"), [])}
        seeds = sorted(set(acc) & set(uni))
        diff, wins = "", ""
        if name != "uniform" and seeds:
            d = [acc[s] - uni[s] for s in seeds]
            diff = ("+" if statistics.mean(d) >= 0 else "") + mean_std(d)
            wins = f"{sum(x > 0 for x in d)}/{len(d)}"
        widths = ",".join(map(str, recs[0]["widths"]))
        rows.append(
            f"| {task} | {r} | {name} | {widths} | {recs[0]['cost']} | "
            f"{mean_std(list(acc.values()))} | {diff} | {wins} |"
        )
    return "\n".join(rows)


def _paired(records: list[dict], task: str, r: int, widths) -> list[float]:
    """Accuracy differences (points) of ``widths`` minus uniform on ``task``, seed by seed."""
    uni = {x["seed"]: x["accuracy"] for x in records if _at(x) == (task, r, "uniform")}
    acc = {
        x["seed"]: x["accuracy"]
        for x in records
        if (x["task"], x["r"], x["widths"]) == (task, r, list(widths))
    }
    return [100 * (acc[s] - uni[s]) for s in sorted(acc) if s in uni]


def _signed(d: list[float]) -> str:
    return ("+" if statistics.mean(d) >= 0 else "") + mean_std(d) if d else ""


def grid_table(records: list[dict]) -> str:
    """The slack x max-ratio grid: each distinct recommendation on its own task vs uniform."""
    found: dict[tuple, list[str]] = {}
    for rec in records:
        parts = rec["design"].split()
        if len(parts) == 3 and rec["task"] == parts[0] and rec["seed"] == 0:
            key = (rec["r"], parts[0], tuple(rec["widths"]))
            found.setdefault(key, []).append(f"{parts[1][2:]}/{parts[2][2:]}")
    rows = [
        "| r | favor = task | slack/max-ratio | widths | accuracy % | vs uniform | wins |",
        "|---|---|---|---|---|---|---|",
    ]
    for (r, favor, widths), settings in sorted(found.items()):
        per_seed = {
            x["seed"]: 100 * x["accuracy"]
            for x in records
            if (x["task"], x["r"], x["widths"]) == (favor, r, list(widths))
        }
        acc = list(per_seed.values())
        d = _paired(records, favor, r, widths)
        rows.append(
            f"| {r} | {favor} | {', '.join(settings)} | {','.join(map(str, widths))} | "
            f"{mean_std(acc)} | {_signed(d)} | {sum(x > 0 for x in d)}/{len(d)} |"
        )
    return "\n".join(rows) if len(rows) > 2 else ""


def _setting_key(setting: str) -> tuple[float, float]:
    slack, _, ratio = setting.split()[0].partition("/")
    return float(slack), math.inf if ratio == "none" else float(ratio)


def settings_table(records: list[dict], default: str) -> str:
    """Per setting: each favor's recommendation on its own task vs uniform, at every r, and
    the mean over the cells measured (``default`` names the settings of ``local``/``global``)."""
    cells: dict[str, dict[tuple, list[float]]] = {}
    for rec in records:
        parts = rec["design"].split()
        if rec["task"] != parts[0] or rec["seed"] != 0:
            continue
        if len(parts) == 3:
            setting = f"{parts[1][2:]}/{parts[2][2:]}"
        elif len(parts) == 1 and parts[0] in ("local", "global"):
            setting = default
        else:
            continue
        setting = setting.replace(default, f"{default} (default)")
        d = _paired(records, rec["task"], rec["r"], rec["widths"])
        if d:
            cells.setdefault(setting, {})[(rec["r"], rec["task"])] = d
    if not cells:
        return ""
    cols = sorted({c for per in cells.values() for c in per})
    rows = [
        "| slack/max-ratio | " + " | ".join(f"r={r} {t}" for r, t in cols) + " | mean |",
        "|---" * (len(cols) + 2) + "|",
    ]
    for setting, per in sorted(cells.items(), key=lambda kv: _setting_key(kv[0])):
        means = [statistics.mean(per[c]) for c in cols if c in per]
        row = [f"{statistics.mean(per[c]):+.1f}" if c in per else "" for c in cols]
        rows.append(f"| {setting} | " + " | ".join(row) + f" | {statistics.mean(means):+.1f} |")
    return "\n".join(rows)


def _at(rec: dict, design: str | None = None) -> tuple:
    return rec["task"], rec["r"], design or rec["design"]


def figure(records: list[dict], path: str, setting: str = "0.25/4") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = sorted({x["task"] for x in records})
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        slack, _, ratio = setting.partition("/")
        names = [*BASELINES, "local", "global"]
        names += [f"{favor} s={slack} q={ratio}" for favor in ("local", "global")]
        for k, name in enumerate(names):
            pts: dict[int, list] = {}
            for x in records:
                if x["task"] == task and x["design"] == name:
                    pts.setdefault(x["r"], []).append(100 * x["accuracy"])
            if not pts:
                continue
            rs = sorted(pts)
            xs = [r * 2 ** (0.03 * (k - len(names) / 2)) for r in rs]  # spread the error bars
            ys = [statistics.mean(pts[r]) for r in rs]
            es = [statistics.stdev(pts[r]) if len(pts[r]) > 1 else 0 for r in rs]
            style = "s" if " s=" in name else "o"
            ax.errorbar(xs, ys, yerr=es, marker=style, capsize=3, label=name)
        all_r = sorted({x["r"] for x in records})
        ax.set_xscale("log", base=2)
        ax.set_xticks(all_r, [str(r) for r in all_r])
        ax.set_xlabel("budget: params cost of wide-base (4r, 4r, 2r, 2r, r), r =")
        ax.set_ylabel("test accuracy % (mean +- std over seeds)")
        ax.set_title(f"{task} task")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# -- main ----------------------------------------------------------------------------------------


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.monotonic()
    arch = wd.load(args.spec)
    cfg = config(args)
    if args.recorded and args.resume:
        old_runs = json.loads(Path(args.resume).read_text())["runs"]
        todo = list(
            dict.fromkeys((x["task"], x["r"], x["design"], tuple(x["widths"])) for x in old_runs)
        )
    else:
        todo = designs(args, arch)
    jobs = {}
    for task, _, _, w in todo:
        for seed in range(args.seeds):
            job = cfg | {
                "spec": spec_path(args.spec),
                "task": task,
                "widths": list(w),
                "seed": seed,
            }
            jobs.setdefault(key(job), job)
    done: dict[tuple, dict] = {}
    if args.resume and Path(args.resume).exists():
        old = json.loads(Path(args.resume).read_text())
        if old.get("config") == cfg:
            # spec paths recorded before they were relative to the repository
            done = {key(x): x | {"spec": spec_path(args.spec)} for x in old["trainings"]}
        else:
            log(f"--resume {args.resume}: other settings ({old.get('config')}); not reused")

    def records() -> list[dict]:
        out = []
        for task, r, name, w in todo:
            for seed in range(args.seeds):
                res = done.get((task, tuple(w), seed))
                if res is not None:
                    fields = ("seed", "accuracy", "seconds", "params")
                    out.append(
                        {"task": task, "r": r, "design": name, "widths": list(w)}
                        | {"cost": wd.cost(arch, "params", w)}
                        | {f: res[f] for f in fields}
                    )
        return out

    def save() -> None:
        if args.json:
            body = {"config": cfg, "runs": records(), "trainings": list(done.values())}
            atomic_write_text(Path(args.json), json.dumps(body, indent=1) + "\n")

    if not args.no_train:
        train_all(args, list(jobs.values()), done, save)
    save()
    print(table(records()))
    grid = grid_table(records())
    if grid:
        print("\nThe slack x max-ratio grid, each recommendation on its own task:\n")
        print(grid)
        sig = inspect.signature(wd.recommend).parameters
        q = sig["max_ratio"].default
        default = f"{sig['slack'].default:g}/{'none' if q is None else f'{q:g}'}"
        print("\nPaired difference vs uniform (points), recommendation on its own task:\n")
        print(settings_table(records(), default))
    if args.figure:
        figure(records(), args.figure, args.figure_setting)
    log(f"wall time {time.monotonic() - t0:.0f} s ({math.ceil((time.monotonic() - t0) / 60)} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
