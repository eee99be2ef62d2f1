#!/usr/bin/env bash
# Build (once) a Debian bookworm root file system in which a real systemd boots as
# PID 1 for the end-to-end tests (see tests/support/container.rs).
#
# Usage: scripts/container-rootfs.sh [ROOTFS]
#   ROOTFS defaults to $VAULTKEEPER_CONTAINER_ROOTFS, else <repo>/target/container-rootfs.
# Idempotent: exits at once when ROOTFS/.vaultkeeper-rootfs-ok exists. Needs root.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
rootfs=${1:-${VAULTKEEPER_CONTAINER_ROOTFS:-$repo/target/container-rootfs}}
suite=${VAULTKEEPER_CONTAINER_SUITE:-bookworm}
mirror=${VAULTKEEPER_CONTAINER_MIRROR:-http://deb.debian.org/debian}
# systemd-sysv: /sbin/init and poweroff; dbus: systemctl talks to PID 1 through it;
# procps: pgrep/ps for tests; python3-minimal: small Type=notify helpers.
packages=systemd,systemd-sysv,dbus,procps,python3-minimal
stamp="$rootfs/.vaultkeeper-rootfs-ok"

if [ -e "$stamp" ]; then
  echo "container-rootfs: $rootfs is ready"
  exit 0
fi
if [ "$(id -u)" != 0 ]; then
  echo "container-rootfs: must run as root (debootstrap, chroot)" >&2
  exit 1
fi
# One builder at a time (parallel test binaries); the others wait, then find it ready.
mkdir -p "$(dirname "$rootfs")"
exec 9>"$rootfs.lock"
flock 9
if [ -e "$stamp" ]; then
  echo "container-rootfs: $rootfs is ready"
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  apt-get update
  apt-get install -y debootstrap
fi

# A half-built tree from an interrupted run is discarded.
tmp="$rootfs.partial"
rm -rf "$tmp"
start=$(date +%s)
debootstrap --variant=minbase --include="$packages" "$suite" "$tmp" "$mirror"

# Mount point for the host directory the tests share with the container.
mkdir -p "$tmp/host"
# Keep boots quiet and fast: nothing in the container needs these.
for unit in systemd-timesyncd.service apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer; do
  ln -sf /dev/null "$tmp/etc/systemd/system/$unit"
done
echo vaultkeeper-test > "$tmp/etc/hostname"
rm -rf "$tmp/var/cache/apt/archives/"*.deb

touch "$tmp/.vaultkeeper-rootfs-ok"
rm -rf "$rootfs"
mv "$tmp" "$rootfs"
echo "container-rootfs: built $rootfs in $(( $(date +%s) - start ))s ($(du -sh "$rootfs" | cut -f1))"
