"""A report written over an older one (``--force``): the older report's figures that the new
one does not write are removed (the folder's manifest says which files are ours), other
files never; every file is written whole or not at all."""

from __future__ import annotations

import hashlib
import json

import pytest
from click.testing import CliRunner
from conftest import EXAMPLES

import widthdesign as wd
from widthdesign import report
from widthdesign.cli import cli

GRID = EXAMPLES / "grid_4x4.toml"
PAPER = EXAMPLES / "paper_1d_n16.toml"
LEVINE = EXAMPLES / "levine_64x64.toml"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def names(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def manifest(folder) -> dict:
    return json.loads((folder / report.MANIFEST).read_text())["files"]


def test_manifest_lists_every_written_file_with_its_hash(tmp_path):
    written = report.write_report(tmp_path / "r", wd.load(GRID), ["left-right"])
    files = manifest(tmp_path / "r")
    assert sorted(files) == sorted(p.name for p in written)
    for p in written:
        assert files[p.name] == hashlib.sha256(p.read_bytes()).hexdigest()


def test_force_over_an_older_report_removes_its_stale_figures_only(tmp_path):
    """The issue's case: a 64x64 report's cut maps stayed beside a 1-D report's figures."""
    out = tmp_path / "rep"
    first = run("report", LEVINE, "-p", "checkerboard:8", "--out", out)
    assert first.exit_code == 0, first.output
    assert "cutmap-01-checkerboard-8.png" in names(out)
    (out / "notes.txt").write_text("mine")
    (out / "cutmap-09-mine.png").write_bytes(b"not ours: no report wrote it")
    second = run("report", PAPER, "-p", "left-right", "--out", out, "--force")
    assert second.exit_code == 0, second.output
    new = sorted(line.rsplit("/", 1)[-1] for line in second.stdout.split())
    assert names(out) == sorted([*new, "notes.txt", "cutmap-09-mine.png", report.MANIFEST])
    assert not [n for n in names(out) if "checkerboard" in n]
    assert sorted(manifest(out)) == new
    assert (out / "notes.txt").read_text() == "mine"


def test_a_stale_figure_changed_since_is_kept(tmp_path):
    out = tmp_path / "rep"
    report.write_report(out, wd.load(GRID), ["left-right", "checkerboard"])
    edited = out / "partition-02-checkerboard.png"
    edited.write_bytes(b"edited by hand")
    report.write_report(out, wd.load(GRID), ["left-right"], force=True)
    assert edited.read_bytes() == b"edited by hand"
    assert not (out / "network-02-checkerboard.png").exists()
    assert "partition-02-checkerboard.png" not in manifest(out)


def test_a_report_without_manifest_is_cleaned_by_its_summary(tmp_path):
    """Reports written before the manifest: their summary.md lists their figures."""
    out = tmp_path / "rep"
    report.write_report(out, wd.load(GRID), ["left-right", "checkerboard"])
    (out / report.MANIFEST).unlink()
    (out / "keep.png").write_bytes(b"x")
    written = report.write_report(out, wd.load(GRID), ["left-right"], force=True)
    assert names(out) == sorted([*(p.name for p in written), "keep.png", report.MANIFEST])


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        json.dumps({"files": ["a.png"]}),
        json.dumps({"files": {"../outside.png": None, "notes.txt": None, "sub/x.png": None}}),
    ],
)
def test_a_bad_manifest_removes_nothing_outside_our_names(tmp_path, text):
    out = tmp_path / "rep"
    out.mkdir()
    (tmp_path / "outside.png").write_bytes(b"x")
    (out / "notes.txt").write_text("mine")
    (out / "sub").mkdir()
    (out / "sub" / "x.png").write_bytes(b"x")
    (out / report.MANIFEST).write_text(text)
    report.write_report(out, wd.load(GRID), ["left-right"], force=True)
    assert (tmp_path / "outside.png").exists() and (out / "notes.txt").exists()
    assert (out / "sub" / "x.png").exists()


def test_interrupted_write_keeps_every_file_of_ours_in_the_manifest(tmp_path, monkeypatch):
    """Interrupted after the first figures: what is in the folder is listed (a later report
    removes it), the older report's files too, and no temporary file is left."""
    from widthdesign.report import page

    out = tmp_path / "rep"
    report.write_report(out, wd.load(GRID), ["checkerboard"])
    real, calls = page.atomic_write_bytes, []

    def write(path, data):
        calls.append(path)
        if len(calls) == 3:  # the manifest, one figure, then Ctrl-C
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(page, "atomic_write_bytes", write)
    with pytest.raises(KeyboardInterrupt):
        report.write_report(out, wd.load(GRID), ["left-right"], force=True)
    listed = set(manifest(out))
    assert set(names(out)) - {report.MANIFEST} <= listed
    assert "network-01-checkerboard.png" in listed and "network-01-left-right.png" in listed
    assert not [n for n in names(out) if n.endswith(".tmp")]
    monkeypatch.undo()
    written = report.write_report(out, wd.load(GRID), ["left-right"], force=True)
    assert names(out) == sorted([*(p.name for p in written), report.MANIFEST])
