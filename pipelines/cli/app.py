"""The `renfang` command line: thin entry points onto the Dagster definitions and the warehouse.

What belongs here: assembling the commands (each defined in its own module of this package)
into one Typer app. What does not: any command's logic, any pipeline step — `renfang run`
executes the same asset job the UI shows, never a parallel code path.
"""

from __future__ import annotations

import typer

from pipelines.cli.acts import backup, restore, rules_app, withdraw
from pipelines.cli.backtest import HELP as BACKTEST_HELP
from pipelines.cli.backtest import backtest
from pipelines.cli.export import export_app
from pipelines.cli.listing import listing_app, objections
from pipelines.cli.rounds import draw, rounds, verify_draw
from pipelines.cli.run import generate, run, score, ui

app = typer.Typer(
    help="人防行业信用监管 — credit-based supervision scoring for civil air defence firms.",
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(export_app, name="export")
app.add_typer(rules_app, name="rules")
app.add_typer(listing_app, name="listing")
app.command()(run)
app.command()(score)
app.command()(generate)
app.command()(ui)
app.command(help=BACKTEST_HELP)(backtest)
app.command("draw")(draw)
app.command("verify-draw")(verify_draw)
app.command("rounds")(rounds)
app.command("withdraw")(withdraw)
app.command("backup")(backup)
app.command("restore")(restore)
app.command("objections")(objections)

if __name__ == "__main__":
    app()
