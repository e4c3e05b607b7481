#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 supports Python <= 3.10), or
# explain what to install. Looks at pyenv versions first, then python3.10 on PATH.
set -u
is_310() { "$1" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; }
for candidate in "${PYTHON310:-}" "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python \
                 "$(command -v python3.10 2>/dev/null)" /usr/bin/python3.10 /usr/local/bin/python3.10; do
  if [ -n "$candidate" ] && [ -x "$candidate" ] && is_310 "$candidate"; then
    echo "$candidate"
    exit 0
  fi
done
cat >&2 <<'MSG'
error: Python 3.10 not found (Rasa 3.6 needs Python 3.8-3.10).
Install it with pyenv (`pyenv install 3.10`) or your package manager (e.g.
`apt-get install python3.10 python3.10-venv`), or point PYTHON310 at an interpreter:
  make run PYTHON310=/path/to/python3.10
MSG
exit 1
