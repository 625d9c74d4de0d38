"""deploy/compose/Dockerfile holds what `tsforge up` runs: every Python package the
install finds (tsforge, services, gateway) with every migrations directory as package
data, and the built web console, which the image serves from TSFORGE_CONSOLE_DIR.

There is no Docker engine here, so the image is checked from its recipe: the final
stage's COPY and ENV lines, the build context that Dockerfile.dockerignore lets
through, and the package data pyproject.toml declares.
"""

from __future__ import annotations

import fnmatch
import re
import tomllib

import pytest

from tests.deploy.deploy_files import DEPLOY, REPO

DOCKERFILE = DEPLOY / "compose" / "Dockerfile"
DOCKERIGNORE = DEPLOY / "compose" / "Dockerfile.dockerignore"


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def _stages() -> dict[str, list[tuple[str, str]]]:
    stages: dict[str, list[tuple[str, str]]] = {}
    current = ""
    for word, rest in _instructions(DOCKERFILE.read_text()):
        if word == "FROM":
            parts = rest.split()
            current = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else "final"
            stages[current] = []
        stages[current].append((word, rest))
    return stages


def _sent(path: str) -> bool:
    """Whether the build context holds `path` (a repository path) under the dockerignore
    rules: the last matching rule wins, `!` lets a path through."""
    sent = True
    for rule in DOCKERIGNORE.read_text().splitlines():
        rule = rule.strip()
        if not rule or rule.startswith("#"):
            continue
        negated, pattern = rule.startswith("!"), rule.lstrip("!").rstrip("/")
        parts = path.split("/")
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if pattern.startswith("**/"):
            matched = any(fnmatch.fnmatch(part, pattern[3:]) for part in parts)
        else:
            matched = any(fnmatch.fnmatch(prefix, pattern) for prefix in prefixes)
        if matched:
            sent = negated
    return sent


def _final_copies() -> dict[str, str]:
    """Destination → source of the final stage's COPY lines (sources from the context)."""
    copies = {}
    for word, rest in _stages()["final"]:
        if word == "COPY" and not rest.startswith("--from"):
            *sources, destination = rest.split()
            for source in sources:
                copies[source.rstrip("/")] = destination
    return copies


def _env(stage: str) -> dict[str, str]:
    values = {}
    for word, rest in _stages()[stage]:
        if word == "ENV":
            for name, value in re.findall(r"(\w+)=(\S+)", rest):
                values[name] = value
    return values


def test_every_package_the_install_finds_is_copied_and_sent() -> None:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    roots = sorted({p.rstrip("*") for p in patterns})
    copies = _final_copies()
    for root in roots:
        assert (REPO / root / "__init__.py").exists(), root
        assert root in copies, f"the image does not COPY {root}/"
        assert _sent(f"{root}/__init__.py"), f"Dockerfile.dockerignore keeps {root}/ out of the build context"
    assert "pyproject.toml" in copies and _sent("pyproject.toml")


def test_package_data_holds_every_migrations_directory() -> None:
    package_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    migrations = [p for p in REPO.glob("**/*migrations") if p.is_dir() and ".venv" not in p.parts]
    assert len(migrations) >= 6  # four services, the byte ledger and the API keys
    for directory in migrations:
        package = directory.parent
        patterns = package_data.get(".".join(package.relative_to(REPO).parts), [])
        for file in directory.rglob("*"):
            if file.is_file() and file.suffix in (".py", ".mako") and "__pycache__" not in file.parts:
                relative = file.relative_to(package).as_posix()
                assert any(fnmatch.fnmatch(relative, pattern) for pattern in patterns), (
                    f"{file.relative_to(REPO)} is not package data: an installed tsforge could not migrate"
                )
                assert _sent(file.relative_to(REPO).as_posix()), file


def test_the_image_serves_the_built_console() -> None:
    stages = _stages()
    assert "console" in stages, "no stage builds the web console"
    commands = " ".join(rest for word, rest in stages["console"] if word == "RUN")
    assert "npm run --silent gen" in commands and "npm run --silent build" in commands
    (built,) = [rest for word, rest in stages["final"] if word == "COPY" and rest.startswith("--from=console")]
    source, destination = built.split()[1:]
    assert source == "/build/web/dist"
    assert _env("final")["TSFORGE_CONSOLE_DIR"] == destination
    for path in ("web/package.json", "web/src/main.tsx", "protos/tsforge/upload/v1/upload_service.proto", "buf.yaml"):
        assert _sent(path), f"{path} is not in the build context"
    for path in ("web/node_modules/react/index.js", "web/dist/index.html", "web/src/gen/x_pb.ts"):
        assert not _sent(path), f"{path} should not be sent to the build"


@pytest.mark.parametrize("path", ["tsforge/tabular/tests/test_problems.py", ".venv/bin/python", "bench/upload.py"])
def test_the_build_context_leaves_out_what_the_image_does_not_install(path: str) -> None:
    assert not _sent(path)
