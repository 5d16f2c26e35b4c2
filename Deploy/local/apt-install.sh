#!/usr/bin/env bash
# Installs the Debian packages named, as root or through sudo; says what it installs and why ($1).
set -euo pipefail
who=${1:?usage: apt-install.sh WHO PACKAGE...}; shift
[ $# -gt 0 ] || exit 0
echo "$who: installing $*" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
