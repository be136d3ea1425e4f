#!/bin/bash
# The native side of make bench: Debian's Linux kernel (linux-image-amd64,
# the newest /boot/vmlinuz-*) boots in the same QEMU with -icount shift=0,
# and its /init (busybox sh) runs the glibc build of every bench/linux
# program, the same static binaries the Linux server runs.  Prints their
# lines as "BENCH native_NAME N insns", then, for each, the Linux server's
# figure from the log given (make bench's) and the ratio:
#   tools/native.sh [OUR_BENCH_LOG]
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
ours=${1:-}
kernel=$(ls /boot/vmlinuz-* 2>/dev/null | sort -V | tail -1)
if [ -z "$kernel" ]; then
	echo "native: no /boot/vmlinuz-* (WANT_NATIVE=1 tools/deps.sh installs linux-image-amd64)" >&2
	exit 1
fi
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,dev,proc}
cp /bin/busybox "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
{
	echo '#!/bin/sh'
	for p in $(ls bench/linux/*.c | xargs -n1 basename | sed 's/\.c$//'); do
		cp "$B/lx/$p-glibc" "$stage/" && echo "/$p-glibc"
	done
	echo '/bin/busybox poweroff -f'
} >"$stage/init"
chmod 755 "$stage/init"
mkdir -p "$B/native"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) >"$B/native/initramfs.cpio"
echo "native: $(basename "$kernel"), the same binaries, the same QEMU"
NATIVE_KERNEL=$kernel NATIVE_INITRD=$B/native/initramfs.cpio TIMEOUT=${TIMEOUT:-300} tools/qemu.sh native \
	>"$B/native/serial.log" 2>&1
lines=$(tr -d '\r' <"$B/native/serial.log" | grep -o 'BENCH [a-z_0-9]* [0-9]* insns')
if [ -z "$lines" ]; then
	echo "native: no figures; the log is $B/native/serial.log" >&2
	exit 1
fi
echo "$lines" | sed 's/^BENCH /BENCH native_/'
[ -n "$ours" ] && [ -e "$ours" ] || exit 0
echo "$lines" | while read -r _ name n _; do
	mine=$(tr -d '\r' <"$ours" | sed -n "s/^BENCH $name \([0-9]*\) insns.*/\1/p" | tail -1)
	[ -n "$mine" ] && awk -v name="$name" -v a="$mine" -v b="$n" \
		'BEGIN { printf "RATIO %s: %d on the Linux server / %d on native Linux = %.2fx\n", name, a, b, a / b }'
done
