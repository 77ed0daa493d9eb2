#!/bin/sh
# Installs the pinned k3s once, at first boot (cloud-init runcmd), the way k3s documents an
# air-gapped install: the binary for this CPU, checked against the sha256 servebox pins, placed in
# /usr/local/bin, then k3s's own install.sh (pinned by tag and sha256) with
# INSTALL_K3S_SKIP_DOWNLOAD=true. Anything that does not match its pin stops the install.
set -eu
# shellcheck source=/dev/null # written by cloud-init (cloud-init.yaml.tmpl)
. /etc/servebox/k3s.env

case "$(uname -m)" in
  x86_64) arch=amd64 asset=k3s want="$SERVEBOX_K3S_SHA256_AMD64" ;;
  aarch64 | arm64) arch=arm64 asset=k3s-arm64 want="$SERVEBOX_K3S_SHA256_ARM64" ;;
  *)
    echo "servebox: k3s is pinned for amd64 and arm64 only, not $(uname -m)" >&2
    exit 1
    ;;
esac
# The '+' of a k3s tag must be escaped in a URL path.
tag=$(printf '%s' "$SERVEBOX_K3S_VERSION" | sed 's/+/%2B/g')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fetch() { # FILE URL
  curl -fsSL --retry 5 --retry-delay 2 --retry-all-errors -o "$1" "$2"
}

check() { # FILE SHA256 WHAT
  got=$(sha256sum "$1" | cut -d ' ' -f 1)
  if [ "$got" != "$2" ]; then
    echo "servebox: $3 has sha256 $got, but $2 is pinned; refusing to install it" >&2
    exit 1
  fi
}

fetch "$work/k3s" "https://github.com/k3s-io/k3s/releases/download/$tag/$asset"
check "$work/k3s" "$want" "k3s $SERVEBOX_K3S_VERSION ($arch)"
fetch "$work/install.sh" "https://raw.githubusercontent.com/k3s-io/k3s/$tag/install.sh"
check "$work/install.sh" "$SERVEBOX_K3S_INSTALL_SH_SHA256" "install.sh of k3s $SERVEBOX_K3S_VERSION"

install -m 0755 "$work/k3s" /usr/local/bin/k3s
INSTALL_K3S_SKIP_DOWNLOAD=true sh "$work/install.sh"
