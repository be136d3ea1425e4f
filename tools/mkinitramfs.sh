#!/bin/bash
# Builds the Linux server's root file system as a newc cpio archive:
#   tools/mkinitramfs.sh OUT.cpio [HOSTDIR...]
# Debian's busybox-static, unmodified, as /bin/busybox with a symbolic link
# for every applet it lists; /etc/passwd and /etc/group; empty /tmp, /dev,
# /proc, /root; /init, the start-up script (tools/init.sh); then the files
# of each HOSTDIR copied over the top.
set -eu
out=$1
shift
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cd "$(dirname "$0")/.."
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,dev,proc,root,home}
cp /bin/busybox "$stage/bin/busybox"
for applet in $(/bin/busybox --list-full); do
	[ "$applet" = bin/busybox ] || ln -sf /bin/busybox "$stage/$applet"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$stage/etc/passwd"
echo 'root:x:0:' >"$stage/etc/group"
install -m 755 tools/init.sh "$stage/init"
for dir in "$@"; do
	cp -a "$dir"/. "$stage"/
done
chmod 1777 "$stage/tmp"
mkdir -p "$(dirname "$out")"
out=$(realpath "$out")
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$out"
