import subprocess
from pathlib import Path

import pytest

from .common import REPO_ROOT


@pytest.fixture(scope="session")
def tracked_files() -> list[Path]:
    """Every file git tracks, as paths under the repository root (moved files are found where they are)."""
    listing = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, check=True, capture_output=True, text=True).stdout
    return [REPO_ROOT / name for name in listing.splitlines() if (REPO_ROOT / name).is_file()]
