#!/bin/sh
# Installs the Debian packages the build and the QEMU runs need, if missing.
set -e
need=""
have() { command -v "$1" >/dev/null 2>&1; }
have qemu-system-x86_64 || need="$need qemu-system-x86"
have gcc || need="$need gcc"
have ld || need="$need binutils"
have objcopy || need="$need binutils"
have gdb || [ -z "$WANT_GDB" ] || need="$need gdb"
have timeout || need="$need coreutils"
have musl-gcc || need="$need musl-tools"
have cpio || need="$need cpio"
dpkg -s busybox-static >/dev/null 2>&1 || need="$need busybox-static" # the Linux server's user land
have cpio || need="$need cpio"
[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || need="$need libc6-dev"
# make bench: Debian's Linux kernel, booted in QEMU for the native figures
[ -z "${WANT_NATIVE:-}" ] || ls /boot/vmlinuz-* >/dev/null 2>&1 || need="$need linux-image-amd64"
[ -z "$need" ] && exit 0
echo "deps: installing$need"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $need
