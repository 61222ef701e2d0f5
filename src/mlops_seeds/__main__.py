"""`python -m mlops_seeds` runs the CLI."""

from mlops_seeds.cli import main

main()
