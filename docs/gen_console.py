"""Refresh the hand-written docs with the real output of the commands they show.

Two kinds of blocks:

- A block fenced as ```` ```console ```` holds commands prefixed with ``$ `` followed by
  their output. For every command of the form ``$ widthdesign ...`` this script runs the CLI
  in-process (from the repository root) and writes its exact stdout under it (and its
  stderr when it fails: the one-line error), wall-clock durations elided as "... s"; other
  commands are left alone. Progress on stderr never lands in a page, so regenerating is
  byte-for-byte reproducible (tests/test_docs.py checks it). Fast: always refreshed.
- ``<!-- BEGIN output: examples/SCRIPT.py ARGS -->`` ... ``<!-- END output -->`` holds the
  Markdown a reproduction script prints on stdout. Scripts can take minutes, so these blocks
  are refreshed only with ``--outputs`` (all of them) or ``--outputs NAME`` (the blocks whose
  command contains NAME).

    .venv/bin/python docs/gen_console.py                 # refresh the console blocks
    .venv/bin/python docs/gen_console.py --outputs       # ... and the script outputs
    .venv/bin/python docs/gen_console.py --check         # exit 1 if a console block is stale

The benchmark pages (``benchmarks*.md``, measured by ``make bench``) and the generated
references are skipped.
"""

from __future__ import annotations

import argparse
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from widthdesign.cli import cli

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
SKIP = {"cli.md", "api.md"}
BLOCK = re.compile(r"^```console\n(.*?)^```$", re.DOTALL | re.MULTILINE)
#: Wall-clock durations in CLI output ("0.574 s") vary from run to run: shown as "... s".
DURATION = re.compile(r"\b\d+(?:\.\d+)? s\b")
OUTPUT = re.compile(
    r"^<!-- BEGIN output: (?P<cmd>[^\n]*?) -->\n(?P<body>.*?)^<!-- END output -->$",
    re.DOTALL | re.MULTILINE,
)


def doc_files() -> list[Path]:
    return [
        p
        for p in sorted(DOCS.glob("*.md"))
        if p.name not in SKIP and not p.name.startswith("benchmarks")
    ]


def run_command(command: str) -> str:
    """Output of one ``widthdesign ...`` command line, as a terminal would show it."""
    args = shlex.split(command)[1:]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        result = CliRunner(env={"COLUMNS": "100"}).invoke(cli, args, prog_name="widthdesign")
    finally:
        os.chdir(cwd)
    out = result.stdout
    try:
        err = result.stderr
    except ValueError:  # click < 8.2 without separate stderr
        err = ""
    # stderr carries progress ("recommend: solve 3 ...", "writing report ..."), which depends
    # on timing: pasted only for a failing command, whose stderr is its one-line error
    text = out + (err if result.exit_code else "")
    if result.exception and not isinstance(result.exception, SystemExit):
        raise RuntimeError(f"{command!r} raised {result.exception!r}")
    text = DURATION.sub("... s", text)
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines())


def render_block(body: str) -> str:
    out: list[str] = []
    keep = False
    for line in body.splitlines():
        if line.startswith("$ "):
            command = line[2:]
            out.append(line)
            if command.startswith("widthdesign "):
                text = run_command(command)
                if text:
                    out.append(text)
                keep = False
            else:
                keep = True
        elif keep:
            out.append(line)
    return "\n".join(out) + "\n"


def run_script(command: str) -> str:
    """stdout of ``python SCRIPT ARGS`` run from the repository root (``--quiet`` is not
    added: progress goes to stderr, which is not pasted)."""
    args = shlex.split(command)
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return done.stdout.rstrip("\n") + "\n"


def output_blocks(text: str) -> list[tuple[str, str]]:
    """(command, pasted body) of every script-output block of a page."""
    return [(m.group("cmd"), m.group("body")) for m in OUTPUT.finditer(text)]


def render(text: str, outputs: str | None = None) -> str:
    """The page with fresh console blocks, and fresh script outputs for the blocks whose
    command contains ``outputs`` (all of them when it is ``""``; none when ``None``)."""
    text = BLOCK.sub(lambda m: "```console\n" + render_block(m.group(1)) + "```", text)
    if outputs is None:
        return text

    def paste(m: re.Match) -> str:
        cmd = m.group("cmd")
        if outputs not in cmd:
            return m.group(0)
        print(f"running {cmd}", file=sys.stderr)
        body = run_script(cmd)
        return f"<!-- BEGIN output: {cmd} -->\n{body}<!-- END output -->"

    return OUTPUT.sub(paste, text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Refresh the docs' console blocks.")
    parser.add_argument("--check", action="store_true", help="exit 1 if a block is stale")
    parser.add_argument(
        "--outputs",
        nargs="?",
        const="",
        default=None,
        metavar="NAME",
        help="also rerun the reproduction scripts (those whose command contains NAME)",
    )
    parser.add_argument("files", nargs="*", type=Path, help="default: the hand-written docs")
    args = parser.parse_args(argv)
    stale = []
    for path in args.files or doc_files():
        text = path.read_text(encoding="utf-8")
        new = render(text, args.outputs)
        if new != text:
            stale.append(path)
            if not args.check:
                path.write_text(new, encoding="utf-8")
                print(f"updated {path}", file=sys.stderr)
    if args.check and stale:
        print("stale console blocks in: " + ", ".join(map(str, stale)))
        print("run .venv/bin/python docs/gen_console.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
