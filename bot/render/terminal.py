"""A Reply in the terminal (console and `switchboard chat`), with rich."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table as RichTable
from rich.text import Text

from skills.reply import Reply


def renderables(reply: Reply) -> list[RenderableType]:
    out: list[RenderableType] = []
    head = Text(reply.text, style="bold" if reply.ok else "bold red")
    out.append(head)
    if reply.hint:
        out.append(Text(f"hint: {reply.hint}", style="dim"))
    for section in reply.sections:
        if section.text:
            # Slack's mrkdwn marks (bold, code fences) mean nothing in a terminal.
            out.append(Text(section.text.replace("```", "").replace("*", "")))
        if section.fields:
            grid = RichTable.grid(padding=(0, 2))
            grid.add_column(style="cyan", no_wrap=True)
            grid.add_column()
            for f in section.fields:
                grid.add_row(f.label, f.value)
            out.append(grid)
    for table in reply.tables:
        t = RichTable(title=table.title or None, show_lines=False)
        for col in table.columns:
            t.add_column(col)
        for row in table.rows:
            t.add_row(*row)
        out.append(t)
    for button in reply.buttons:
        style = {"primary": "green", "danger": "red"}.get(button.style, "white")
        command = button.command
        if button.form is not None:  # what the form would ask, as the words to type
            command += "".join(f" {i.name}=..." for i in button.form.inputs)
        out.append(Text.assemble((f"[{button.label}]", f"bold {style}"), "  ", command))
    for f in reply.files:
        out.append(Text(f"file: {f.filename} ({len(f.content):,} bytes)", style="dim"))
    return out


def render(reply: Reply, console: Console) -> None:
    console.print(Group(*renderables(reply)))
