#!/usr/bin/env bash
# Runs ledgerbench with its peers present: installs Debian's hledger and
# ledger (ledger-cli) when missing, then runs the benchmark from the
# module's root with the given flags (none: the full run of the README).
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v hledger >/dev/null || missing+=(hledger)
command -v ledger >/dev/null || missing+=(ledger)
if [ ${#missing[@]} -gt 0 ]; then
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	echo "installing ${missing[*]} (Debian packages) for the peer rows" >&2
	$sudo apt-get update -qq >/dev/null 2>&1 || true
	$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
exec go run ./cmd/ledgerbench "$@"
