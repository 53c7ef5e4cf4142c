from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem in one asset: where it is, what is wrong, how to fix it."""

    source: str
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.source}: {self.path}: {self.message}"
        if self.hint:
            text += f" Hint: {self.hint}"
        return text


class Findings(list):
    """The findings about one source; `add` is the one way to build a Finding."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def add(self, path, message: str, hint: str = "") -> None:
        """`path` is a JSON path string ('$.a.b') or the list of keys and indexes leading there."""
        self.append(Finding(self.source, path if isinstance(path, str) else json_path(path), message, hint))


def json_path(parts) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def did_you_mean(value, choices, n: int = 3) -> str:
    close = difflib.get_close_matches(str(value), sorted(str(c) for c in choices), n=n, cutoff=0.6)
    if close:
        return "did you mean " + " or ".join(repr(c) for c in close) + "?"
    return ""


def misspelling_hint(missing: str, present) -> str:
    """'rename it' when one of the `present` keys looks like a misspelling of the `missing` one, else ''."""
    close = [key for key in present if key != missing and did_you_mean(key, [missing])]
    return f"{close[0]!r} looks like a misspelling of it: rename it to {missing!r}." if close else ""
