# shellcheck shell=bash
# Sourced by the scripts in scripts/: find_python X.Y prints the path of a CPython X.Y interpreter.
# Order: $PYTHONXY (e.g. PYTHON313), pythonX.Y on PATH, pyenv's versions directory.
find_python() {
  local version=$1 override="PYTHON${1//./}" candidate
  if [ -n "${!override:-}" ]; then echo "${!override}"; return 0; fi
  for candidate in "$(command -v "python$version" 2>/dev/null)" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$version".*/bin/"python$version"; do
    if [ -x "$candidate" ] && "$candidate" -c 'import sys' >/dev/null 2>&1; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}
