"""``python -m threadloom.cli``: the same as the ``threadloom`` console script."""

from threadloom.cli import main

main()
