"""Text put into a markdown comment (the preview's pull-request comment and its review sections), escaped
so that nothing a declaration, a program or a policy holds can end a table cell, start a construct or
leave its code span.

`cell` for a message in a table cell, `text` for a name as plain text, `code` for a code span.
"""

from __future__ import annotations

import html
import re

from secrets_layout.errors import printable

_MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_\[\]()<>|~&])")
"""What starts a construct inside a line (emphasis, code, links, HTML, entities, table cells); `#`,
`-`, `+` and `.` only do at the start of a line, where no name is put."""


def cell(text: str) -> str:
    """A message or note that stays inside one table cell: its line breaks as <br>, its other control
    characters escaped, `<` and `&` as text (messages write `<environment>/<service>/<name>`)."""
    lines = html.escape(text.replace("\r", ""), quote=False).split("\n")
    return "<br>".join(printable(line) for line in lines).replace("|", "\\|")


def text(name: str) -> str:
    """A name (a file, a resource) as plain text: control characters escaped as the text report
    escapes them, and each character markdown or HTML reads within a line backslash-escaped
    (CommonMark: any ASCII punctuation may be), so a name can start no link, tag, emphasis or cell."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", printable(name))


def code(value: str | None) -> str:
    """A code span of `value`, whatever backticks it holds: fenced by one more backtick than its
    longest run (CommonMark code spans), control characters escaped, `|` escaped for the table."""
    shown = printable(str(value)).replace("|", "\\|")
    fence = "`" * (max(map(len, re.findall("`+", shown)), default=0) + 1)
    padding = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{fence}{padding}{shown}{padding}{fence}"
