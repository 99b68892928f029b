#!/usr/bin/env bash
# Setup for examples/story.sh, run from the project directory against the same
# DATA_DIR / DATABASE_URL as the running instance:
#   - users alice and bob (group "Security approvers") and victor (group "Viewer")
#   - an API token for each
#   - examples/story.yaml applied: build target story-gitlab -> $FAKE_URL (the fake GitLab),
#     policy story-fixable-critical owned by alice
# It prints `export ..._TOKEN=...` lines, so:   eval "$(examples/story-setup.sh)"
# Running it again changes nothing and prints the same tokens.
set -euo pipefail
cd "$(dirname "$0")/.."
FAKE_URL=${FAKE_URL:-http://127.0.0.1:8108}
PY=${PY:-.venv/bin/python}

# Users and tokens first (the policy names alice as its owner), in one Python start-up;
# "export NAME_TOKEN=..." lines on stdout, the rest on stderr.
"$PY" manage.py shell -c '
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
for name, group in [("alice", "Security approvers"), ("bob", "Security approvers"), ("victor", "Viewer")]:
    user, _ = User.objects.get_or_create(username=name)
    user.groups.add(Group.objects.get(name=group))
    token, _ = Token.objects.get_or_create(user=user)
    print(f"export {name.upper()}_TOKEN={token.key}")
'

config=$(mktemp --suffix=.yaml)
trap 'rm -f "$config"' EXIT
sed "s#http://127.0.0.1:8108#${FAKE_URL}#" examples/story.yaml > "$config"
"$PY" manage.py apply_config "$config" >&2
