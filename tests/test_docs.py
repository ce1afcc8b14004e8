"""Every README and docs snippet runs, and regenerating the docs is byte-for-byte reproducible.

- ```` ```sh ```` blocks (README.md and the hand-written docs pages): every ``widthdesign ...``
  line runs in-process (click's runner) in a temporary folder holding a copy of ``examples/``
  and ``docs/partitions-n16.txt``, and ``python -c ...`` lines run with this interpreter, in
  order, so one line can make the file the next one reads; each must exit 0. Lines that set
  up the environment or are the suite itself (``make``, ``export``, venv and pip) and the
  reproduction scripts (minutes to hours; tests/test_examples.py runs them with small
  settings) are listed in :data:`NOT_RUN`, and any other line fails the test, so a new kind
  of command cannot go unrun silently.
- ```` ```python ```` blocks without ``>>>`` (the README's) run as scripts in such a folder;
  doctest blocks (``>>>``) are checked by tests/test_examples.py.
- docs/gen_console.py renders every page to itself even when the CLI prints progress on
  stderr (the solver's lines once a solve takes over a second): progress never lands in a page.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from widthdesign.cli import _common as cli_common
from widthdesign.cli import cli
from widthdesign.cli import recommend as cli_recommend

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)\n(.*?)^```$", re.DOTALL | re.MULTILINE)
#: Generated references: their ```python blocks are signatures, not snippets.
GENERATED = {"api.md", "cli.md"}
#: Shell lines not run here, and why.
NOT_RUN = {
    r"make (demo|test|docs)\b": "the suite and the demo themselves",
    r"export ": "environment set-up",
    r"python3(\.\d+)? -m venv ": "environment set-up",
    r"\.venv/bin/pip install ": "environment set-up",
    r"\.venv/bin/python examples/reproduce_\w+\.py": "minutes to hours; small settings in "
    "tests/test_examples.py",
}


def pages() -> list[Path]:
    return [ROOT / "README.md"] + [p for p in sorted(DOCS.glob("*.md")) if p.name not in GENERATED]


def blocks(path: Path, langs: tuple[str, ...]) -> list[str]:
    return [body for lang, body in FENCE.findall(path.read_text(encoding="utf-8")) if lang in langs]


def shell_lines(body: str) -> list[str]:
    """Command lines of a shell block: continuations joined, comments dropped."""
    text = body.replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            out.append(shlex.join(words))
    return out


def sandbox(tmp_path: Path) -> Path:
    """A folder with the files the snippets read (copies: snippets may write beside them)."""
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "docs").mkdir()
    shutil.copy(DOCS / "partitions-n16.txt", tmp_path / "docs")
    return tmp_path


def run_line(line: str) -> tuple[int, str]:
    """Run one shell line in the current folder: (exit code, output)."""
    words = shlex.split(line)
    if words[0].endswith("widthdesign"):  # also .venv/bin/widthdesign
        result = CliRunner().invoke(cli, words[1:], prog_name="widthdesign")
        return result.exit_code, result.output
    if words[0] == "mkdir" and words[1:2] == ["-p"]:  # the quick start's scratch folder
        for folder in words[2:]:
            Path(folder).mkdir(parents=True, exist_ok=True)
        return 0, ""
    if words[0] in ("python", "python3") and words[1] == "-c":
        done = subprocess.run([sys.executable, *words[1:]], capture_output=True, text=True)
        return done.returncode, done.stdout + done.stderr
    for pattern in NOT_RUN:
        if re.match(pattern, line):
            return 0, "not run"
    raise AssertionError(f"shell line of a kind this test does not know: {line!r}")


SHELL_PAGES = [p for p in pages() if blocks(p, ("sh", "bash", "shell"))]


def test_readme_and_docs_have_shell_snippets():
    assert ROOT / "README.md" in SHELL_PAGES and len(SHELL_PAGES) >= 4


@pytest.mark.parametrize("path", SHELL_PAGES, ids=lambda p: p.name)
def test_shell_snippets_run(path, tmp_path, monkeypatch):
    monkeypatch.chdir(sandbox(tmp_path))
    ran = 0
    for body in blocks(path, ("sh", "bash", "shell")):
        for line in shell_lines(body):
            code, output = run_line(line)
            assert code == 0, f"{path.name}: {line!r} exited {code}:\n{output}"
            ran += output != "not run"
    if path.name == "README.md":
        assert ran >= 9  # the quick start runs, not just set-up lines


def test_readme_python_snippet_runs(tmp_path, monkeypatch):
    scripts = blocks(ROOT / "README.md", ("python",))
    assert scripts and all(">>>" not in s for s in scripts)
    monkeypatch.chdir(sandbox(tmp_path))
    for i, code in enumerate(scripts):
        (tmp_path / f"snippet{i}.py").write_text(code, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, f"snippet{i}.py"], capture_output=True, text=True, cwd=tmp_path
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "scratch" / "cut.png").read_bytes()[:4] == b"\x89PNG"


def test_readme_quick_start_writes_only_under_scratch_and_runs_twice(tmp_path, monkeypatch):
    """The quick start left masks.npy, rep-local/, rep-4x4/, grid.graphml (and the Python
    snippet cut.png) in the checkout: now all of it goes under scratch/, which git ignores,
    and a second run (outputs already there) works as written too."""
    root = sandbox(tmp_path)
    monkeypatch.chdir(root)
    before = sorted(p.name for p in root.iterdir())
    lines = [ln for b in blocks(ROOT / "README.md", ("sh",)) for ln in shell_lines(b)]
    writers = [ln for ln in lines if re.search(r"--report|--out|-o |np\.save", ln)]
    assert len(writers) >= 4 and all("scratch/" in ln for ln in writers), writers
    for attempt in (1, 2):
        for line in lines:
            code, output = run_line(line)
            assert code == 0, f"run {attempt}: {line!r} exited {code}:\n{output}"
    assert sorted(p.name for p in root.iterdir()) == sorted([*before, "scratch"])
    made = sorted(p.name for p in (root / "scratch").iterdir())
    assert made == ["arranged.toml", "grid.graphml", "masks.npy", "rep-4x4", "rep-local"]
    for script in blocks(ROOT / "README.md", ("python",)):
        assert 'savefig("scratch/' in script
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "/scratch/" in ignored


def test_readme_says_what_make_test_installs_and_what_training_found():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# widthdesign\n\n```sh\nmake demo ")
    top = readme.split("## Quick start")[0]
    assert "make test" in top and "torch" in top and "scikit-learn" in top and "1.5 GB" in top
    assert "tie\nuniform widths at best" in top or "tie uniform widths at best" in " ".join(
        top.split()
    )
    flat = " ".join(top.replace("*", "").split())
    assert "wide-tip widths (wide deep layers) beat wide-base widths on the global task" in flat
    assert "wide-base beats wide-tip on the local one" in flat
    assert "docs/training.md" in top


def test_readme_mentions_every_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert f"widthdesign {name}" in readme, name


def load_gen_console():
    spec = importlib.util.spec_from_file_location("gen_console", DOCS / "gen_console.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_regenerated_pages_are_reproducible_even_with_progress(monkeypatch):
    """Progress shown at once (no one-second delay) must not change any page."""
    monkeypatch.setattr(cli_recommend._SolveProgress.__init__, "__defaults__", (-1.0,))
    monkeypatch.setattr(cli_common.Progress.__init__, "__defaults__", (-1.0,))
    gen = load_gen_console()
    assert "recommend" in gen.run_command("widthdesign --help")
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["cut", "examples/paper_1d_n16.toml", "-p", "0,1"])
    assert "cut: 1/1" in result.stderr  # the patch does show progress
    for path in gen.doc_files():
        text = path.read_text(encoding="utf-8")
        assert gen.render(text) == text, f"{path.name} changes when regenerated"
