"""``python -m widthdesign.cli``: the same as the ``widthdesign`` command."""

from . import main

main()
