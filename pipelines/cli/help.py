"""How `renfang … --help` reads: real metavars (`N`, `FILE`, `YYYY-MM-DD`), no type tags such
as `<int>` or `<bool>`, no `{PLAN_FILE}` braces, and commands listed with whole sentences.

What belongs here: the Typer command and group classes every `renfang` command uses, and the
short help of each command. What does not: any command's options (their modules).
"""

from __future__ import annotations

import re
from typing import Any

from typer.core import TyperCommand, TyperGroup

TYPE_METAVARS = {
    "int": "N",
    "float": "NUMBER",
    "str": "TEXT",
    "path": "PATH",
    "file": "FILE",
    "directory": "DIR",
    "datetime": "DATE",
}
"""Metavars for options that do not name their own (`--firms N`, not `--firms <int>`)."""

_TYPE_TAG = re.compile(r"\s*<(?:list\[)?([\w|]+)\]?>")


def readable_metavar(record: str) -> str:
    """`--port <int>` → `--port N`; `--out <path>` → `--out PATH`; a flag keeps no tag."""

    def replace(match: re.Match[str]) -> str:
        kind = match[1]
        if kind == "bool":
            return ""
        if "|" in kind:
            return f" [{kind}]"
        return f" {TYPE_METAVARS.get(kind, kind.upper())}"

    return _TYPE_TAG.sub(replace, record)


def _format_parameters(command: Any, ctx: Any, formatter: Any) -> None:
    arguments, options = [], []
    for param in command.get_params(ctx):
        record = param.get_help_record(ctx)
        if record is None:
            continue
        name, text = record
        if param.param_type_name == "argument":
            arguments.append((param.metavar or (param.name or "").upper(), text))
        else:
            options.append((readable_metavar(name), text))
    if arguments:
        with formatter.section("Arguments"):
            formatter.write_dl(arguments)
    if options:
        with formatter.section("Options"):
            formatter.write_dl(options)


def _usage_pieces(command: Any, ctx: Any) -> list[str]:
    """`[OPTIONS] PLAN_FILE`: a required argument is simply named (not `{plan_file}`), an
    optional one in brackets."""
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if param.param_type_name == "argument":
            name = param.metavar or (param.name or "").upper()
            pieces.append(name if param.required else f"[{name}]")
    return pieces


class Command(TyperCommand):
    """A `renfang` command: plain help with readable metavars."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _usage_pieces(self, ctx)

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_parameters(self, ctx, formatter)


class Group(TyperGroup):
    """A `renfang` command group: the same help style, then its commands."""

    def format_options(self, ctx: Any, formatter: Any) -> None:
        _format_parameters(self, ctx, formatter)
        self.format_commands(ctx, formatter)


CONTEXT = {"max_content_width": 100, "help_option_names": ["-h", "--help"]}
