import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    """One problem in one asset: the file, the JSON path, what is wrong and how to fix it."""

    source: str
    path: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.path}: {self.message}" + (f" Hint: {self.hint}" if self.hint else "")


class Findings(list):
    """The findings about one source file."""

    def __init__(self, source: str):
        super().__init__()
        self.source = source

    def add(self, path, message: str, hint: str = "") -> None:
        """`path` is a JSON path ('$.a.b') or the keys and indexes leading there."""
        self.append(Finding(self.source, path if isinstance(path, str) else json_path(path), message, hint))


def json_path(parts) -> str:
    return "$" + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in parts)


def did_you_mean(value, choices, n: int = 3) -> str:
    close = difflib.get_close_matches(str(value), sorted(str(c) for c in choices), n=n, cutoff=0.6)
    return "did you mean " + " or ".join(repr(c) for c in close) + "?" if close else ""
