"""The `renfang` command line: thin entry points onto the Dagster definitions and the warehouse.

What belongs here: assembling the commands (each defined in its own module of this package)
into one Typer app, `--version`, and each command's one-sentence summary for `renfang --help`.
What does not: any command's logic, any pipeline step — `renfang run` executes the same asset
job the UI shows, never a parallel code path.
"""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from pipelines.cli.acts import backup, restore, rules_app, withdraw
from pipelines.cli.backtest import HELP as BACKTEST_HELP
from pipelines.cli.backtest import backtest
from pipelines.cli.export import export_app
from pipelines.cli.help import CONTEXT, Command, Group
from pipelines.cli.listing import listing_app, objections
from pipelines.cli.report import report, verify_report
from pipelines.cli.rounds import draw, rounds, verify_draw
from pipelines.cli.run import generate, retrain, run, score, ui
from pipelines.cli.users import add_firm, users_app

app = typer.Typer(
    help="人防行业信用监管 — credit-based supervision scoring for civil air defence firms.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,  # plain help: brackets in option help are text, not markup
    cls=Group,
    context_settings=CONTEXT,
)

SHORT_HELP = {
    "run": "Run the daily job: ingest new files, validate, score, draft a round, publish.",
    "retrain": "Train the risk model now: backtest, model, risk scores (also monthly).",
    "score": "Score every firm as of a date and print the tier mix.",
    "generate": "Write a synthetic landing folder (the sample, or large sets).",
    "ui": "Start the Dagster UI, the dashboards and the Data Docs site.",
    "backtest": "Backtest a risk score against later inspection outcomes.",
    "draw": "Draw and publish a double-random round.",
    "verify-draw": "Re-run a published draw from its plan file.",
    "rounds": "List the stored rounds, or one round's results by tier.",
    "export": "Export the association's tier list or the public disclosure feed.",
    "rules": "Adopt official rule sets from a date, or list them.",
    "withdraw": "Withdraw a received file from a date on (its records stop counting).",
    "backup": "Write a consistent copy of warehouse, archive, rounds and audit log.",
    "restore": "Bring a backup back after checking its manifest.",
    "listing": "Walk a 严重失信主体名单 case through its legal procedure.",
    "objections": "List objections with their deadlines (open, overdue, decided).",
    "report": "Write a firm's credit report (信用报告) as a PDF with its verification code.",
    "verify-report": "Check a credit report PDF against the warehouse.",
    "users": "Manage the dashboards' accounts (a firm's own account).",
}
"""One whole sentence per command for `renfang --help` (click would cut a long first
sentence mid-way)."""


def _version(value: bool) -> None:
    if not value:
        return
    try:
        own = version("renfang")
    except PackageNotFoundError:  # run from a source tree that is not installed
        own = "unknown"
    parts = [f"Python {platform.python_version()}"]
    for package in ("dagster", "duckdb", "polars", "streamlit"):
        try:
            parts.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            continue
    typer.echo(f"renfang {own} ({', '.join(parts)})")
    raise typer.Exit()


@app.callback()
def main(
    show_version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_version,
            is_eager=True,
            help="Print the version (and those of its main libraries) and exit.",
        ),
    ] = False,
) -> None:
    """人防行业信用监管 — credit-based supervision scoring for civil air defence firms.

    Every command has --help. Chinese messages come first, English after them.
    """


app.add_typer(export_app, name="export", short_help=SHORT_HELP["export"])
app.add_typer(rules_app, name="rules", short_help=SHORT_HELP["rules"])
app.add_typer(listing_app, name="listing", short_help=SHORT_HELP["listing"])
app.add_typer(users_app, name="users", short_help=SHORT_HELP["users"])
users_app.command(
    "add-firm", cls=Command, short_help="Add a firm's own account and print its first password."
)(add_firm)
for name, command in (
    ("run", run),
    ("retrain", retrain),
    ("score", score),
    ("generate", generate),
    ("ui", ui),
    ("backtest", backtest),
    ("draw", draw),
    ("verify-draw", verify_draw),
    ("rounds", rounds),
    ("withdraw", withdraw),
    ("backup", backup),
    ("restore", restore),
    ("objections", objections),
    ("report", report),
    ("verify-report", verify_report),
):
    help_text = BACKTEST_HELP if name == "backtest" else None
    app.command(name, cls=Command, short_help=SHORT_HELP[name], help=help_text)(command)

if __name__ == "__main__":
    app()
