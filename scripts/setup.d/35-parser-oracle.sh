#!/usr/bin/env bash
# The differential parsing test's oracle (test/server/oracle.test.ts): Python's h11, a strict HTTP/1.1 parser by
# others, pinned, in the project's own virtual environment .cache/oracle-python (git-ignored), made by Debian's
# python3 from PyPI. Nothing is installed into the user's Python; `rm -rf .cache/oracle-python` removes it all.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
. "$root/scripts/lib.sh"
venv="$root/.cache/oracle-python"
h11_version=0.16.0
if [ -x "$venv/bin/python" ] &&
  "$venv/bin/python" -c "import h11, sys; sys.exit(h11.__version__ != '$h11_version')" 2>/dev/null; then
  exit 0
fi
ensure_packages python3 python3-venv
say "installing h11 $h11_version into .cache/oracle-python"
rm -rf "$venv"
/usr/bin/python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "h11==$h11_version"
