"""`renfang users add-firm`: a firm's own account for the dashboards, made by the centre.

What belongs here: the command's options, checked before anything is written (a USCC that
fails its check, a firm not in the directory, no users file named, the shipped demo file,
a firm that has an account already: exit 2, Chinese then English), printing the first
password once, and the audit-log entry. What does not: the users file's shape and hashing
(`dashboards.auth`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from pipelines.cli.help import CONTEXT, Group
from pipelines.cli.options import WarehouseOpt, existing_warehouse, refuse
from pipelines.cli.report import check_uscc

users_app = typer.Typer(
    help="用户 — the dashboards' accounts: a firm's own account (one per USCC).",
    no_args_is_help=True,
    rich_markup_mode=None,
    cls=Group,
    context_settings=CONTEXT,
)


def add_firm(
    uscc: Annotated[str, typer.Option("--uscc", help="The firm's 统一社会信用代码.")],
    users: Annotated[
        Path | None,
        typer.Option(
            "--users",
            metavar="FILE",
            help="The users file to add the account to (env RENFANG_USERS; created if absent).",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="The name shown when signed in (default: the firm's name)."),
    ] = None,
    warehouse: WarehouseOpt = None,
) -> None:
    """Add a firm's own account (user name = its USCC) and print its first password once."""
    from dashboards.auth import AccessConfigError, add_firm_account
    from warehouse import audit

    code = check_uscc(uscc)
    given = users or (
        Path(os.environ["RENFANG_USERS"]) if os.environ.get("RENFANG_USERS") else None
    )
    if given is None:
        refuse("--users", "请指定用户文件（--users 或 RENFANG_USERS）",
               "name the users file (--users or RENFANG_USERS)")  # fmt: skip
    wh = existing_warehouse(warehouse)
    with wh.connect(read_only=True) as con:
        found = con.execute("SELECT name FROM firms WHERE uscc = ?", [code]).fetchall()
    if not found:
        refuse("--uscc", f"名录中无此单位 {code}", f"{code} is not in the firm directory")
    try:
        username, password = add_firm_account(given, code, (name or found[0][0]).strip())
    except AccessConfigError as exc:
        zh, _, en = str(exc).partition("\n")
        refuse("--users", zh, en or zh)
    audit.append(wh.audit_log, "firm_account", {"uscc": code, "username": username,
                                                 "users_file": str(given)})  # fmt: skip
    typer.echo(
        f"单位账户已创建 / firm account created: {username}（{found[0][0]}） → {given}\n"
        f"初始密码（仅显示一次，请当面或经安全渠道交给该单位）/ first password (shown once; hand "
        f"it to the firm in person or by a secure channel):\n{password}"
    )
