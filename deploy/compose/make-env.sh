#!/bin/sh
# Writes deploy/compose/.env from env.example: each "change-me" becomes its own random
# value, then every other setting (../../.env.example, commented) is appended. Refuses to
# overwrite an existing .env.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
target="$here/.env"
if [ -e "$target" ]; then
    echo "$target exists; remove it first to write a new one" >&2
    exit 1
fi
umask 077
while IFS= read -r line; do
    case "$line" in
        *=change-me) echo "${line%=change-me}=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" ;;
        *) echo "$line" ;;
    esac
done < "$here/env.example" > "$target"
{
    echo
    echo "# ---- Every other setting (from .env.example at the repository's root)"
    grep -v '^[A-Z]' "$here/../../.env.example"
} >> "$target"
echo "wrote $target (mode 600); the admin password is DJANGO_SUPERUSER_PASSWORD in it"
