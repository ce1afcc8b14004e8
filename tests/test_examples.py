"""The examples and the docs cannot rot.

- Every script in ``examples/*.py`` runs here with small settings, and its key results are
  asserted (closed forms match, ranks stay within the bounds, mirror pooling wins on
  symmetry-like partitions and square pooling on centred local ones...).
- The generated references (docs/cli.md, docs/api.md) equal their generators' output.
- The hand-written pages: their ``console`` blocks equal the commands' output, their Python
  examples pass as doctests, and the pasted outputs of the fast reproduction scripts equal the
  scripts' output.
- Every page of the mkdocs nav exists (and the site builds, when mkdocs is installed).
"""

from __future__ import annotations

import doctest
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
DOCS = ROOT / "docs"

#: Small settings per example script: every script in examples/ must be listed here.
SMALL_ARGS = {
    "reproduce_appendix_d.py": ["--archs", "2", "--parts", "20", "--quiet"],
    "reproduce_closed_forms.py": ["--trials", "2", "--max-log2n", "6", "--quiet"],
    "reproduce_pooling_geometry.py": ["--samples", "2", "--quiet"],
    "reproduce_theory_examples.py": ["--seeds", "2", "--parts", "2"],
    "reproduce_overlaps.py": ["--max-log2n", "5", "--side", "8", "--positions", "3", "--quiet"],
    # trained for real (tiny settings) in tests/test_arrange.py
    "reproduce_arrangement.py": ["--seeds", "1", "--epochs", "1", "--n-train", "64"],
    # trained for real in tests/test_train.py
    "reproduce_training.py": ["--r", "2", "--seeds", "2", "--epochs", "1", "--n-train", "64"],
}
#: Scripts whose default output is pasted in the docs and fast enough to recompute here.
PASTED_FAST = [
    "reproduce_theory_examples.py",
    "reproduce_pooling_geometry.py",
    "reproduce_overlaps.py",
]


def load_module(path: Path):
    name = f"_wd_{path.parent.name}_{path.stem}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def example(name: str):
    return load_module(EXAMPLES / name)


gen_console = load_module(DOCS / "gen_console.py")


# -- every example script runs ------------------------------------------------------------


def test_every_example_script_has_small_settings():
    scripts = sorted(p.name for p in EXAMPLES.glob("*.py"))
    missing = [s for s in scripts if s not in SMALL_ARGS]
    assert not missing, f"add small settings for {missing} to SMALL_ARGS in {__file__}"


@pytest.mark.parametrize("name", sorted(SMALL_ARGS))
def test_example_help(name):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_appendix_d_small(capsys):
    s = example("reproduce_appendix_d.py").main(SMALL_ARGS["reproduce_appendix_d.py"])
    assert s["configurations"] == 40
    assert s["rank_above_upper"] == 0  # the min cut is an upper bound
    assert s["rank_below_lower"] == 0  # Theorem 2 is a lower bound
    assert 0 <= s["max_gap"] <= 0.10
    assert s["exact"] + s["inexact"] == 40
    out = capsys.readouterr().out
    assert "| configurations | 40 | 2,316,600 |" in out


def test_appendix_d_known_gap():
    """One of the gaps of the default sample: rank 104 below the min cut 112."""
    import widthdesign as wd

    mod = example("reproduce_appendix_d.py")
    arch = mod.architecture((5, 11, 7, 2))
    side_a = [0, 1, 2, 3, 6, 12, 13, 14]
    b = wd.bounds(arch, side_a)
    assert (b.lower_bound, b.upper_bound) == (64, 112)
    assert wd.verify(arch, side_a, seeds=2) == 104


def test_appendix_d_enumerations():
    mod = example("reproduce_appendix_d.py")
    assert len(mod.arrangements()) == 360
    parts = mod.balanced_partitions()
    assert len(parts) == 6435 and all(p[0] == 0 and len(p) == 8 for p in parts)
    assert len(mod.arrangements()) * len(parts) == mod.PAPER_TOTAL


def test_overlaps_small(tmp_path, capsys):
    """Both reproductions with small settings: (a) the non-overlapping left-right bound is the
    top width for every N, the overlapping ones grow with N; (b) the overlapping bounds of a
    k x k block are above the non-overlapping one at every k; the figure is written."""
    fig = tmp_path / "levine.png"
    args = SMALL_ARGS["reproduce_overlaps.py"]
    r = example("reproduce_overlaps.py").main([*args, "--r", "4", "--figure", str(fig)])
    assert fig.stat().st_size > 10_000
    by = {}
    for row in r["a"]:
        by.setdefault(row["network"], {})[row["n"]] = row
    assert {n: row["log2_upper"] for n, row in by["no overlap (2/2)"].items()} == {
        8: 2.0,
        16: 2.0,
        32: 2.0,
    }
    assert [by["window 4 / stride 2"][n]["log2_upper"] for n in (8, 16, 32)] == [4.0, 8.0, 16.0]
    assert by["window 2 / stride 1"][32]["log2_upper"] == 14.0
    # exact ranks where verify fits: N = 8, equal to the bounds
    assert [by[k][8]["rank"] for k in by] == [4, 8, 16, 16]
    assert by["window 3 / stride 2"][16]["rank"] is None  # too many templates
    curves = r["b"]["curves"]
    flat = curves["no overlap (2x2/2)"]["mean"]
    for label in ("3x3 / stride 2", "4x4 / stride 2", "2x2 / stride 1"):
        assert (curves[label]["mean"] > 2 * flat).all()
    assert "| 8 | no overlap (2/2) | 8 | 2 | r1 | 4 |" in capsys.readouterr().out


def test_closed_forms_small():
    r = example("reproduce_closed_forms.py").main(SMALL_ARGS["reproduce_closed_forms.py"])
    assert r["mismatches"] == 0
    assert r["checked"] > 40 and r["maxflow_checked"] == r["checked"]
    families = {family for family, _ in r["rows"]}
    assert families == {"left-right", "even-odd", "blocks:2^j", "checkerboard 2-D", "shallow"}


def test_pooling_geometry_small():
    r = example("reproduce_pooling_geometry.py").main(SMALL_ARGS["reproduce_pooling_geometry.py"])
    assert r["all_exact"]
    winners = {row["partition"]: (row["group"], row["winner"]) for row in r["rows"]}
    for name, (group, winner) in winners.items():
        if group == "symmetry":
            assert winner == "mirror", name
        if group == "local, symmetric":
            assert winner == "square", name
    assert winners["checkerboard"][1] == "tie"
    assert winners["left half vs right half"][1] == "mirror"


def test_mirror_order_is_a_fold():
    mod = example("reproduce_pooling_geometry.py")
    order = mod.mirror_order()
    assert sorted(order) == list(range(32 * 32))
    # every first-level window holds two rows of a mirrored pair of columns
    for s in range(0, 32, 2):
        a, b = order[s] % 32, order[s + 1] % 32
        assert a + b == 31


def test_theory_examples():
    rows = example("reproduce_theory_examples.py").main(SMALL_ARGS["reproduce_theory_examples.py"])
    by_name = {r["example"].split(":")[0]: r for r in rows}
    delta = by_name["delta rule"]
    assert delta["rank"] == delta["upper"] == 2 and delta["plain"] == 4
    gap = by_name["gap"]
    assert (gap["lower"], gap["rank"], gap["upper"]) == (8, 21, 24)
    assert by_name["shared"]["rank"] == 3 < by_name["shared"]["upper"] == 4
    assert by_name["unshared"]["rank"] == 4
    for r in rows:
        if r["example"].startswith("powers of 2"):
            assert r["lower"] == r["rank"] == r["upper"]


# -- generated references -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["cli", "api"])
def test_generated_reference_is_up_to_date(name):
    gen = load_module(DOCS / f"gen_{name}.py")
    current = (DOCS / f"{name}.md").read_text(encoding="utf-8")
    assert current == gen.render(), (
        f"docs/{name}.md is out of date: run .venv/bin/python docs/gen_{name}.py (or make docs)"
    )


# -- hand-written pages -------------------------------------------------------------------


def test_console_blocks_are_up_to_date():
    stale = []
    for path in gen_console.doc_files():
        text = path.read_text(encoding="utf-8")
        if gen_console.render(text) != text:
            stale.append(path.name)
    assert not stale, f"stale console blocks in {stale}: run .venv/bin/python docs/gen_console.py"


PYTHON_BLOCK = re.compile(r"^```(?:python|pycon)\n(.*?)^```$", re.DOTALL | re.MULTILINE)


def _python_blocks(path: Path) -> list[str]:
    return [b for b in PYTHON_BLOCK.findall(path.read_text(encoding="utf-8")) if ">>>" in b]


DOCS_WITH_EXAMPLES = [p for p in gen_console.doc_files() if _python_blocks(p)]


def test_some_docs_have_python_examples():
    assert len(DOCS_WITH_EXAMPLES) >= 2


@pytest.mark.parametrize("path", DOCS_WITH_EXAMPLES, ids=lambda p: p.name)
def test_doc_python_examples(path, monkeypatch):
    blocks = _python_blocks(path)
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))  # the examples may extend it
    test = doctest.DocTestParser().get_doctest("\n".join(blocks), {}, path.name, str(path), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    runner.run(test, out=lambda s: print(s, end=""))
    assert runner.failures == 0, f"{runner.failures} failing example(s) in docs/{path.name}"


def pasted_outputs() -> dict[str, tuple[Path, str, str]]:
    found = {}
    for path in gen_console.doc_files():
        for cmd, body in gen_console.output_blocks(path.read_text(encoding="utf-8")):
            found[cmd] = (path, cmd, body)
    return found


@pytest.mark.parametrize("name", PASTED_FAST)
def test_pasted_output_is_up_to_date(name, capsys):
    cmd = f"examples/{name}"
    assert cmd in pasted_outputs(), f"no pasted output of {cmd} in docs/"
    path, _, body = pasted_outputs()[cmd]
    example(name).main(["--quiet"] if "--quiet" in SMALL_ARGS[name] else [])
    out = capsys.readouterr().out
    assert body == out.rstrip("\n") + "\n", (
        f"the output of {cmd} pasted in docs/{path.name} is stale: run "
        f".venv/bin/python docs/gen_console.py --outputs {name}"
    )


def test_pasted_slow_outputs_match_the_defaults():
    """Slow reproductions are not rerun here; their pasted output must at least come from the
    current default settings, and every reproduction script must be shown in the docs."""
    pasted = pasted_outputs()
    assert "examples/reproduce_appendix_d.py" in pasted  # the default sample
    mod = example("reproduce_appendix_d.py")
    for cmd, (_, _, body) in pasted.items():
        script, *argv = cmd.split()
        if script != "examples/reproduce_appendix_d.py":
            continue
        a = mod.parse_args(argv)
        assert f"`--archs {a.archs} --parts {a.parts} --seed {a.seed} --seeds {a.seeds}`" in body
        assert "| rank above the min cut (must be 0) | 0 |" in body
        assert "| rank below the lower bound (must be 0) | 0 |" in body
    body = pasted["examples/reproduce_closed_forms.py"][2]
    args = example("reproduce_closed_forms.py").parse_args([])
    assert body.startswith(f"`--trials {args.trials} --seed {args.seed} ")
    assert ": 0 mismatches." in body
    pages = "\n".join(p.read_text(encoding="utf-8") for p in DOCS.glob("*.md"))
    for script in EXAMPLES.glob("reproduce_*.py"):
        assert f"examples/{script.name}" in pages, f"{script.name} is not shown in docs/"


REPORT_ARGS = [
    "report",
    "examples/levine_64x64.toml",
    "--budget",
    "8736",
    "--favor",
    "global",
    "--favor",
    "local",
    "--choices",
    "8..512:8",
    "--min-width",
    "2",
]


def test_report_example_is_up_to_date(tmp_path, monkeypatch):
    """docs/howto-report.md shows the figures of docs/img/report-64x64: same summary."""
    from click.testing import CliRunner

    from widthdesign.cli import cli

    page = (DOCS / "howto-report.md").read_text(encoding="utf-8")
    normalized = " ".join(page.replace("\\\n", " ").split())
    assert " ".join(["widthdesign", *REPORT_ARGS[:4]]) in normalized
    assert " ".join(REPORT_ARGS[4:]) in normalized
    monkeypatch.chdir(ROOT)
    out = tmp_path / "report"
    result = CliRunner().invoke(cli, [*REPORT_ARGS, "--out", str(out)])
    assert result.exit_code == 0, result.output
    fresh = (out / "summary.md").read_text(encoding="utf-8")
    committed = (DOCS / "img" / "report-64x64" / "summary.md").read_text(encoding="utf-8")
    assert committed == fresh, (
        "docs/img/report-64x64 is stale: rerun the command of docs/howto-report.md "
        "(with --force) and delete its index.html"
    )
    for link in re.findall(r"\(img/report-64x64/([\w.-]+)\)", page):
        assert (DOCS / "img" / "report-64x64" / link).is_file(), link


# -- the site -----------------------------------------------------------------------------


def nav_files() -> list[str]:
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    nav = text.split("\nnav:", 1)[1]
    return re.findall(r":\s*([\w./-]+\.md)\s*$", nav, re.MULTILINE)


def test_mkdocs_nav_files_exist():
    files = nav_files()
    assert "index.md" in files and "theory.md" in files
    missing = [f for f in files if not (DOCS / f).is_file()]
    assert not missing, f"mkdocs.yml nav lists missing pages: {missing}"


def test_every_page_is_in_the_nav():
    files = set(nav_files())
    pages = {p.name for p in DOCS.glob("*.md")}
    assert pages <= files, f"pages missing from the mkdocs.yml nav: {sorted(pages - files)}"


def test_mkdocs_build_strict(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
