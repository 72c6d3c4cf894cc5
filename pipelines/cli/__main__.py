"""`python -m pipelines.cli …` runs the `renfang` command line."""

from pipelines.cli.app import app

app()
