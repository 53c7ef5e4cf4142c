"""What the READMEs and file comments claim agrees with the repository and with each other."""

import re
import tomllib
from pathlib import Path

from .common import AGENT_TABLE, FIRST_AGENT_FOR_PYTHON, REPO_ROOT, python_floor

LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)|^\[[^\]]+\]:\s*(\S+)", re.MULTILINE)
CODE_BLOCK = re.compile(r"^ *```[^\n]*\n(.*?)^ *```", re.MULTILINE | re.DOTALL)


def markdown_files(tracked_files) -> list[Path]:
    return [path for path in tracked_files if path.suffix == ".md"]


def links(text: str) -> list[str]:
    without_code = CODE_BLOCK.sub("", text)
    return [inline or reference for inline, reference in LINK.findall(without_code)]


def github_anchor(heading: str) -> str:
    slug = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return slug.replace(" ", "-")


def anchors(markdown: Path) -> set[str]:
    text = CODE_BLOCK.sub("", markdown.read_text())
    return {github_anchor(match) for match in re.findall(r"^#+\s+(.*)$", text, re.MULTILINE)}


def test_every_relative_link_in_every_readme_resolves(tracked_files):
    broken = []
    for markdown in markdown_files(tracked_files):
        for target in links(markdown.read_text()):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            resolved = (markdown.parent / path).resolve() if path else markdown
            if not resolved.exists():
                broken.append(f"{markdown.relative_to(REPO_ROOT)}: {target} (no such file)")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                broken.append(f"{markdown.relative_to(REPO_ROOT)}: {target} (no such heading)")
    assert not broken, "\n".join(broken)


def test_no_readme_links_to_this_repository_as_if_it_were_published_elsewhere(tracked_files):
    # The integration is not in DataDog's repositories; a link there to one of our folders is dead.
    top_level = {path.relative_to(REPO_ROOT).parts[0] for path in tracked_files}
    dead = [
        f"{markdown.relative_to(REPO_ROOT)}: {target}"
        for markdown in markdown_files(tracked_files)
        for target in links(markdown.read_text())
        if (match := re.match(r"https://github\.com/DataDog/[\w.-]+/(?:blob|tree)/[^/]+/([^/#]+)", target))
        and match.group(1) in top_level
    ]
    assert not dead, "\n".join(dead)


def version_claims(tracked_files) -> list[tuple[str, str, str]]:
    """(where, kind, version) for each statement of the wheel's minimum Python or Agent."""
    claims = []
    patterns = {
        "python": re.compile(r"(?:wheel|integration|check)\s+(?:requires|needs)\s+Python\s*(?:>=\s*)?(3\.\d+)"),
        "agent": re.compile(r"Agent\s+(7\.\d+)(?:\+|\s+or\s+(?:later|newer))"),
    }
    for path in tracked_files:
        if path.suffix not in {".md", ".yaml", ".yml", ".toml", ".json"} and "Dockerfile" not in path.name:
            continue
        # The Agent table names what other parts need too (the traced app, the pins); tests/test_pins.py checks it.
        text = AGENT_TABLE.sub("", path.read_text())
        text = re.sub(r"\s*\n\s*#?\s*", " ", text)  # statements wrapped over comment lines
        for kind, pattern in patterns.items():
            claims += [(str(path.relative_to(REPO_ROOT)), kind, version) for version in pattern.findall(text)]
    return claims


def test_every_minimum_python_and_agent_statement_agrees_with_requires_python(tracked_files):
    floor = python_floor()
    expected = {"python": floor, "agent": FIRST_AGENT_FOR_PYTHON[floor]}
    claims = version_claims(tracked_files)
    assert {kind for _, kind, _ in claims} == {"python", "agent"}, f"the docs state no minimum: {claims}"
    wrong = [
        f"{where}: {kind} {version}, expected {expected[kind]}"
        for where, kind, version in claims
        if version != expected[kind]
    ]
    assert not wrong, "\n".join(wrong)


def test_a_license_file_matches_the_declared_license(tracked_files):
    license_file = REPO_ROOT / "LICENSE"
    assert license_file in tracked_files, "pyproject.toml files and file headers refer to a LICENSE file"
    declared = {
        tomllib.loads(path.read_text())["project"]["license"]
        for path in tracked_files
        if path.name == "pyproject.toml" and "project" in tomllib.loads(path.read_text())
    }
    assert declared == {"BSD-3-Clause"}
    text = license_file.read_text()
    assert text.startswith("BSD 3-Clause License")
    assert "Neither the name of the copyright holder nor the names of its" in text


def test_readmes_say_where_ddev_and_hatch_come_from(tracked_files):
    silent = []
    for markdown in markdown_files(tracked_files):
        text = markdown.read_text()
        command = r"(?:cd \S+ && )?(?:\S+=\S+ )?(?:ddev|hatch) "
        in_code = re.search(rf"^\s*{command}", "\n".join(CODE_BLOCK.findall(text)), re.MULTILINE)
        if (in_code or re.search(rf"`{command}[^`]+`", text)) and "scripts/requirements-dev.txt" not in text:
            silent.append(str(markdown.relative_to(REPO_ROOT)))
    assert not silent, f"these READMEs run ddev or hatch without saying where they come from: {silent}"


def test_host_installs_read_the_wheel_from_an_absolute_readable_path(tracked_files):
    installs = []
    for markdown in markdown_files(tracked_files):
        for block in CODE_BLOCK.findall(markdown.read_text()):
            for wheel in re.findall(r"integration install .*?-w\s+(\S+)", block.replace("\\\n", " ")):
                installs.append((markdown, block, wheel))
    assert installs, "no README shows the host install"
    for markdown, block, wheel in installs:
        where = f"{markdown.relative_to(REPO_ROOT)}: {wheel}"
        assert wheel.startswith("/"), f"{where}: the dd-agent user resolves a relative path from its own cwd"
        # The wheel is first put there readable for everyone: dd-agent cannot read a user's home.
        directory = wheel.rsplit("/", 1)[0]
        assert re.search(rf"install -m 0?644 \S+ {re.escape(directory)}/", block), where
