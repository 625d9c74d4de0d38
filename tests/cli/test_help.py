"""Every command's --help runs and says what it really has; the `tsforge up` banner
tells a second shell what it needs."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from tests.plugin import make_config
from tsforge.cli import up
from tsforge.cli.main import cli


def _commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in sorted(group.commands.items()):
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))


COMMANDS = list(_commands(cli))


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_help_runs_and_a_group_names_each_subcommand_it_has(path, command):
    result = CliRunner().invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert f"Usage: cli {' '.join(path)}" in result.output
    first_line = (command.help or "").strip().splitlines()[0]
    assert first_line.endswith((".", ")")), f"{path}: {first_line!r} reads as cut off"
    if isinstance(command, click.Group):
        described = (command.help or "").lower()
        missing = [name for name in command.commands if name not in described]
        assert not missing, f"`tsforge {' '.join(path)} --help` does not describe {missing}: {described!r}"


def test_the_session_group_does_not_claim_a_listing_it_lacks():
    text = CliRunner().invoke(cli, ["session", "--help"]).output
    assert "list" not in set(cli.commands["session"].commands)
    assert "Create and list" not in text and "tsforge sessions" in text


def test_horizons_are_documented_in_hours_relative_to_the_reference_time():
    text = CliRunner().invoke(cli, ["session", "create", "--help"]).output
    assert "hours relative to each" in text and "-23 h" in text


def test_the_banner_says_where_tsforge_is_and_what_a_second_shell_needs():
    config = make_config(data_dir="/tmp/tsforge-banner", training_port="51052")
    exports = up.second_shell(config, "TOKEN", "/opt/venv/bin/tsforge")
    assert exports == [
        "export PATH=/opt/venv/bin:$PATH",
        "export TSFORGE_TOKEN=TOKEN",
        "export TSFORGE_DATA_DIR=/tmp/tsforge-banner",
        "export TSFORGE_TRAINING_ADDRESS=127.0.0.1:51052",  # not the default port: say so
    ]
    assert up.tsforge_command().endswith("/tsforge")  # this venv's script, as `make up` runs it
