"""The Chinese operator's guide (docs/zh) stays true to the program: every `contestday …` command and option it
names exists in the CLI, every CONTESTDAY_ variable is read somewhere, and every link between its pages lands."""

from __future__ import annotations

import re
from pathlib import Path

import click

from contestday.cli import main

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "zh"
PAGES = ["README.md", "部署.md", "赛前准备.md", "比赛当天.md", "赛后.md", "备份与恢复.md", "常见问题.md"]
OUTPUT_WORDS = {"serving"}  # "contestday serving on http://…", what `serve` prints
CODE_DIRS = ["contestday", "scoring", "registration", "judging", "results", "kiosk", "certificates"]


def text(page: str) -> str:
    return (DOCS / page).read_text(encoding="utf-8")


def invocations(page: str) -> list[tuple[list[str], list[str]]]:
    """(command path, options) of every `contestday <command> …` in the page (a container named contestday, a
    path ending in /contestday or `python -m contestday --help` are not commands)."""
    found = []
    pattern = r"\bcontestday[ \t]+(?!contestday\b)([a-z][a-z-]*(?:[ \t]+[a-z][a-z-]*)*)([^\n]*)"
    for match in re.finditer(pattern, text(page)):
        words = match.group(1).split()
        if words[0] in OUTPUT_WORDS:
            continue
        rest = re.split(r"`|&&|\||\s#|>|（", match.group(2))[0]
        found.append((words, re.findall(r"(?<![\w-])--[a-z][a-z-]*", rest)))
    return found


def test_the_guide_has_its_pages_and_the_index_links_them() -> None:
    index = text("README.md")
    for page in PAGES:
        assert (DOCS / page).is_file(), page
        assert page == "README.md" or f"]({page})" in index, page


def test_every_command_and_option_named_exists() -> None:
    checked = 0
    for page in PAGES:
        for words, options in invocations(page):
            command: click.Command = main
            for word in words:
                if not isinstance(command, click.Group) or word not in command.commands:
                    break
                command = command.commands[word]
            assert not isinstance(command, click.Group), f"{page}: contestday {' '.join(words)}: no such command"
            known = {opt for param in command.params for opt in param.opts} | {"--help"}
            for option in options:
                assert option in known, f"{page}: contestday {' '.join(words)}: no option {option}"
            checked += 1
    assert checked > 30


def test_every_variable_named_is_read_by_the_program() -> None:
    code = "\n".join(path.read_text(encoding="utf-8") for folder in CODE_DIRS
                     for path in (ROOT / folder).rglob("*.py"))
    named = {var for page in PAGES for var in re.findall(r"CONTESTDAY_[A-Z_]+[A-Z]", text(page))}
    assert "CONTESTDAY_PUBLIC_URL" in named
    for var in sorted(named):
        suffix = var.removeprefix("CONTESTDAY_")
        assert var in code or f'_PREFIX}}{suffix}"' in code, var


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces made hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_link_between_the_pages_lands() -> None:
    anchors = {page: {slug(h) for h in re.findall(r"^#+ (.+)$", text(page), re.M)} for page in PAGES}
    for page in PAGES:
        for target in re.findall(r"\]\(([^)]+)\)", text(page)):
            if target.startswith("http"):
                continue
            file, _, anchor = target.partition("#")
            file = file or page
            assert file in anchors, f"{page}: link to {target}"
            assert not anchor or anchor in anchors[file], f"{page}: no heading for {target}"
