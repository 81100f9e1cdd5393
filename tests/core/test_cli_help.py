"""`fpo COMMAND --help` explains every option (README), and --help wins over a bad --config."""

import dataclasses
import re

import pytest

from fpo_core.cli import COMMANDS, main
from fpo_core.config import TrainConfig


def help_text(args: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exit:
        main(args)
    assert exit.value.code == 0
    return capsys.readouterr().out


def option_help(text: str) -> dict[str, str]:
    """Each option's (and positional's) help text, without tyro's ``(default: ...)``; tyro draws boxes on a UTF-8
    terminal, plain columns elsewhere."""
    entries: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        row = line.strip("│").rstrip()
        cell = row.lstrip()
        indent = len(row) - len(cell)
        if 1 <= indent <= 2 and re.match(r"--?[a-zA-Z]|[A-Z][A-Z_]*(\s|$)", cell):  # an entry: flags, maybe help
            flags, _, rest = cell.partition("  ")
            current = entries.setdefault(flags, [])
            current.append(rest)
        elif indent > 2 and cell:  # its help goes on (or starts below flags too long to share their line)
            current.append(cell)
    return {flags: re.sub(r"\s*\((default: [^()]*|required)\)$", "", " ".join(" ".join(parts).split()))
            for flags, parts in entries.items() if flags != "-h, --help"}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_option_has_help(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    options = option_help(help_text([command, "--help"], capsys))
    if command == "train":  # the parser found every option
        assert len(options) == len(dataclasses.fields(TrainConfig)), options
    # a real sentence, not an empty one nor a section comment such as "Update" or "Networks" that tyro took as help
    unexplained = {flags: text for flags, text in options.items() if len(text.split()) < 3 or not text.endswith(".")}
    assert not unexplained, unexplained


def test_help_wins_over_a_bad_config(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("n_mcc: 3\n")
    for args in (["--config", str(bad)], ["--config", str(tmp_path / "missing.yaml")]):
        assert "--gae-lambda" in help_text(["train", *args, "--help"], capsys)
