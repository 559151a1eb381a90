"""`python -m cli ...`: the same as the `rag` console script."""

from cli.main import main_exit

main_exit()
