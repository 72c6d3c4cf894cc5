"""User text is never markup: `dashboards.ui.plain` escapes Markdown, and every widget that
renders Markdown in the dashboards is passed static text, a `t()` lookup, or data through
`plain`/`say` (checked on the source, so a new page cannot forget it)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from dashboards.ui import plain

DASHBOARDS = Path(__file__).parents[3] / "dashboards"
MARKDOWN_WIDGETS = {
    "title", "header", "subheader", "caption", "markdown", "write", "error", "warning",
    "info", "success", "toast", "metric", "expander", "button", "download_button",
    "page_link", "text_input", "selectbox", "multiselect", "radio", "checkbox", "form",
}  # fmt: skip
"""Streamlit calls whose text (first argument or `label=`) is rendered as Markdown."""
SAFE_CALLS = {"plain", "say"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (
            "[点我](http://evil.example/phish)",
            "\\[点我\\]\\(http\\:\\/\\/\u2060evil\\.example\\/phish\\)",
        ),
        ("![x](http://host/track.png)", "\\!\\[x\\]\\(http\\:\\/\\/\u2060host\\/track\\.png\\)"),
        ("**粗** _斜_ `代码` # 标题", r"\*\*粗\*\* \_斜\_ \`代码\` \# 标题"),
        ("<img src=x onerror=alert(1)>", r"\<img src\=x onerror\=alert\(1\)\>"),
        (":red[红色] :material/home: $x^2$", r"\:red\[红色\] \:material\/home\: \$x\^2\$"),
        ("www.evil.example", "www\u2060\\.evil\\.example"),
        ("a@evil.example", "a\\@\u2060evil\\.example"),
        ("上海\r\n申防\u202e公司", "上海 申防公司"),
        ("上海申防人防工程设计有限公司", "上海申防人防工程设计有限公司"),
    ],
)
def test_plain_escapes_every_markdown_construct(text: str, shown: str) -> None:
    assert plain(text) == shown


def _safe(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.JoinedStr):
        return all(
            isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue) and _safe(v.value))
            for v in node.values
        )
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _safe(node.left) and _safe(node.right)
    if (  # plain(separator).join(plain(v) for v in …)
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "join"
        and _safe(node.func.value)
        and isinstance(node.args[0], ast.GeneratorExp)
    ):
        return _safe(node.args[0].elt)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in SAFE_CALLS:
            return True
        return node.func.id == "t" and not node.keywords  # a fixed text, no data in it
    return False


def unsafe_calls(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in MARKDOWN_WIDGETS:
            continue
        label = node.args[0] if node.args else None
        label = next((k.value for k in node.keywords if k.arg == "label"), label)
        if node.func.attr == "page_link" or label is None:
            label = next((k.value for k in node.keywords if k.arg == "label"), None)
        if label is not None and not _safe(label):
            found.append(f"{path.name}:{node.lineno} {ast.unparse(node)[:90]}")
    return found


def test_every_markdown_widget_gets_static_text_or_plain_data() -> None:
    files = [DASHBOARDS / "streamlit_app.py", DASHBOARDS / "ui.py",
             *sorted((DASHBOARDS / "views").glob("*.py"))]  # fmt: skip
    problems = [problem for path in files for problem in unsafe_calls(path)]
    assert not problems, "\n".join(problems)
