#!/usr/bin/env bash
# Install the real readers that tests/readers loads the reports into: Debian's Chromium and
# Node.js (each only when missing), the npm packages pinned in package-lock.json (Heimdall Lite,
# the SAF CLI, STIG Manager's parser, Playwright's driver without a browser of its own), and
# pytest's own junit-10.xsd, which pytest ships in its source distribution, not in the wheel.
# Nothing installed here is committed: node_modules/ and .readers/ are git-ignored.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v node >/dev/null && command -v npm >/dev/null || missing+=(nodejs npm)
[ -x "${CWH_CHROMIUM:-/usr/bin/chromium}" ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    else
        echo "Missing ${missing[*]}: sudo apt-get install ${missing[*]}" >&2
        exit 1
    fi
fi

# The lockfile names no registry (omit-lockfile-registry-resolved): npm uses the configured one.
npm ci --no-audit --no-fund --loglevel=error

version=$(.venv/bin/python -c 'import pytest; print(pytest.__version__)')
mkdir -p .readers
if [ "$(cat .readers/junit-10.xsd.version 2>/dev/null)" != "$version" ]; then
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    .venv/bin/python -m pip download -q --no-deps --no-binary :all: "pytest==$version" -d "$work"
    tar -xzf "$work/pytest-$version.tar.gz" -C "$work" \
        "pytest-$version/testing/example_scripts/junit-10.xsd"
    mv "$work/pytest-$version/testing/example_scripts/junit-10.xsd" .readers/junit-10.xsd
    echo "$version" > .readers/junit-10.xsd.version
fi
