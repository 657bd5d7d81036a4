#!/usr/bin/env bash
# Generates an Alembic migration from the difference between the models and the migrations so far:
#   scripts/new-migration.sh "add widgets"
set -euo pipefail
cd "$(dirname "$0")/.."
message="${1:?usage: scripts/new-migration.sh \"what changed\"}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
.venv/bin/python - "$message" "$scratch" <<'PY'
import sys
from alembic import command
from creator_studio.store.migrate import alembic_config
config = alembic_config(f"sqlite:///{sys.argv[2]}/scratch.db")
command.upgrade(config, "head")
command.revision(config, message=sys.argv[1], autogenerate=True)
PY
