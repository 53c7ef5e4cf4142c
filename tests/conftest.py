import shutil
import subprocess
from pathlib import Path

import pytest

from .common import REPO_ROOT


@pytest.fixture(scope="session")
def tracked_files() -> list[Path]:
    """Every file git tracks, as paths under the repository root (moved files are found where they are)."""
    listing = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, check=True, capture_output=True, text=True).stdout
    return [REPO_ROOT / name for name in listing.splitlines() if (REPO_ROOT / name).is_file()]


@pytest.fixture
def copy_of_repository(tmp_path, tracked_files) -> Path:
    """The tracked files in a folder of their own, for edits and commands the real checkout must not see."""
    for path in tracked_files:
        target = tmp_path / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return tmp_path
