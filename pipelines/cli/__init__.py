"""The `renfang` command line (`pipelines.cli:app`); one module per group of commands."""

from pipelines.cli.app import app

__all__ = ["app"]
