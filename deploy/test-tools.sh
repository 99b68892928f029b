#!/usr/bin/env bash
# What the suite drives besides Python, installed from Debian's packages when missing
# (make test and .ci/run call it): no test is left out for want of a tool.
set -euo pipefail

missing=()
# The dashboard's browser tests drive Debian's Chromium (pytest-playwright never downloads one).
[ -x /usr/bin/chromium ] || missing+=(chromium)
# The single sign-on tests' OpenID provider runs on Node.js (npm installs it on first use).
{ type -P node >/dev/null && type -P npm >/dev/null; } || missing+=(nodejs npm)
# Tags are resolved at a real registry in the image identity tests: Debian's distribution.
[ -x /usr/bin/docker-registry ] || missing+=(docker-registry)
# The test CA of the fake Kubernetes API, and make-env.sh's random secrets.
type -P openssl >/dev/null || missing+=(openssl)
type -P od >/dev/null || missing+=(coreutils)

if [ ${#missing[@]} -gt 0 ]; then
  echo "installing the test tools: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
