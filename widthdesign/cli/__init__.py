"""The ``widthdesign`` command line: parse, call the Python API, format.

One module per command; :mod:`._common` holds the shared options and output helpers and
:mod:`._design` the options of ``recommend`` and ``report``. Every
:class:`~widthdesign.errors.WidthDesignError` and every usage error becomes one line
``Error: ...`` on stderr with exit code 1; nothing else here knows about errors.
"""

from __future__ import annotations

import click

# the command modules, not their commands: widthdesign.cli.recommend stays the module
from . import arrange, cut, inspect, network, profile, recommend, report, verify
from ._common import CliError, Group

__all__ = ["CliError", "cli", "main"]


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="widthdesign")
def cli() -> None:
    """Design the layer widths of convolutional arithmetic circuits from min cuts.

    \b
    Example:
      widthdesign inspect examples/paper_1d_n16.toml
      widthdesign cut examples/paper_1d_n16.toml --part left-right --part even-odd
    """


for _module in (cut, verify, inspect, network, report, recommend, profile, arrange):
    cli.add_command(getattr(_module, _module.__name__.rsplit(".", 1)[1]))


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="widthdesign")


if __name__ == "__main__":  # pragma: no cover
    main()
