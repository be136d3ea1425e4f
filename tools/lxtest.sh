#!/bin/bash
# Busybox applets on the Linux server, checked against the same binary on
# the host: every command line of tests/linux/applets.list runs in one
# boot (one `run linux.elf` each, from a fresh root file system holding the
# files of tests/linux/applets plus big.txt, about 1 MiB, and tree.tar),
# and its output must equal the host's for the same command in a copy of
# those files.  `ls -l` dates are left out (the server's clock starts at
# boot).  A line "=STATUS PROGRAM ARGS" instead runs PROGRAM (a boot module
# from build/lx) and expects that exit status; the "ok N - ..." and "not ok
# N - ..." lines it prints count as tests too.  Prints "ok N - ..." /
# "not ok N - ..." lines and a summary line
# "lxtest: N passed, N failed"; exits 1 if any failed.
set -u
cd "$(dirname "$0")/.."
B=${B:-build}
list=tests/linux/applets.list
work="$B/lxtest"
rm -rf "$work" && mkdir -p "$work/root"
cp -a tests/linux/applets/. "$work/root/"
seq 1 150000 >"$work/root/big.txt"
(cd "$work/root" && tar -cf tree.tar tree)
tools/mkinitramfs.sh "$work/initramfs.cpio" "$work/root" || exit 2
mapfile -t cmds < <(grep -v '^#' "$list" | grep -v '^$')
{
	echo "devices irq=4 io=0x3f8/3"
	echo "console uart.elf"
	echo "module lxtest/initramfs.cpio"
	for c in "${cmds[@]}"; do
		case "$c" in
		=*) set -- ${c#=}; shift; echo "module lx/$1"; echo "run linux.elf --initramfs initramfs.cpio $*" ;;
		*) echo "run linux.elf --initramfs initramfs.cpio busybox $c" ;;
		esac
	done
	echo "poweroff"
} >"$B/lxtest.cfg"
CFG=lxtest.cfg TIMEOUT=${TIMEOUT:-300} tools/qemu.sh boot </dev/null >"$work/serial.log" 2>&1
normalise() { sed -E 's/^([-dlrwxst]{10} +[0-9]+ +[^ ]+ +[^ ]+ +[0-9]+) +[A-Z][a-z]{2} +[0-9]+ +[0-9:]+ /\1 DATE /'; }
# the outputs of the runs, in order: between each "root: run linux.elf" and its exit line
tr -d '\r' <"$work/serial.log" | awk -v dir="$work" '
	/^root: run linux\.elf / { n++; on = 1; out = sprintf("%s/out.%d", dir, n); printf "" > out; next }
	/^(not )?ok - linux\.elf exited with status / { on = 0; st = $NF; print st > sprintf("%s/status.%d", dir, n); next }
	on && !/^linux: / { print >> out }'
passed=0
failed=0
for i in "${!cmds[@]}"; do
	n=$((i + 1))
	c=${cmds[$i]}
	case "$c" in
	=*)
		set -- ${c#=}
		# a test program's own checks count one by one
		oks=$(grep -c '^ok [0-9]* - ' "$work/out.$n" 2>/dev/null)
		noks=$(grep -c '^not ok [0-9]* - ' "$work/out.$n" 2>/dev/null)
		passed=$((passed + ${oks:-0}))
		failed=$((failed + ${noks:-0}))
		grep '^not ok [0-9]* - ' "$work/out.$n" 2>/dev/null | sed "s/^/#   $2: /"
		st=$(cat "$work/status.$n" 2>/dev/null)
		if [ "$st" = "$1" ]; then echo "ok $n - $2 ends with status $1"; passed=$((passed + 1))
		else echo "not ok $n - $2 ends with status $1 (got '$st')"; failed=$((failed + 1)); fi
		continue ;;
	esac
	want=$( (cd "$work/root" && cp -a . ../ref.$n && cd ../ref.$n && /bin/busybox $c </dev/null 2>&1; echo "status $?") | normalise)
	got=$( (cat "$work/out.$n" 2>/dev/null; echo "status $(cat "$work/status.$n" 2>/dev/null)") | normalise)
	if [ "$want" = "$got" ]; then
		echo "ok $n - busybox $c"
		passed=$((passed + 1))
	else
		echo "not ok $n - busybox $c"
		diff <(echo "$want") <(echo "$got") | head -10 | sed 's/^/#   /'
		failed=$((failed + 1))
	fi
done
# An interactive session: tests/linux/interactive.txt is typed into
# busybox sh -i on the console (COM1, the driver, the server's console
# reader); the lines of tests/linux/interactive.expected must come out in
# that order, and the shell's exit status must be 3.
{
	echo "devices irq=4 io=0x3f8/3"
	echo "console uart.elf"
	echo "module lxtest/initramfs.cpio"
	echo "run linux.elf --initramfs initramfs.cpio sh -i"
	echo "poweroff"
} >"$B/lxtest-sh.cfg"
INPUT=tests/linux/interactive.txt CFG=lxtest-sh.cfg TIMEOUT=${TIMEOUT:-300} tools/qemu.sh boot \
	>"$work/serial-sh.log" 2>&1
tr -d '\r' <"$work/serial-sh.log" >"$work/out-sh"
at=0
while IFS= read -r want; do
	case "$want" in "#"*) continue ;; esac
	n=$(tail -n +$((at + 1)) "$work/out-sh" | grep -n -x -F -m1 -- "$want" | cut -d: -f1)
	if [ -n "$n" ]; then
		at=$((at + n)); echo "ok - interactive sh prints '$want'"; passed=$((passed + 1))
	else
		echo "not ok - interactive sh prints '$want' (after line $at of $work/out-sh)"; failed=$((failed + 1))
	fi
done <tests/linux/interactive.expected
if grep -q '^not ok - linux\.elf exited with status 3$' "$work/out-sh"; then
	echo "ok - interactive sh exits with status 3"; passed=$((passed + 1))
else
	echo "not ok - interactive sh exits with status 3"; failed=$((failed + 1))
fi
echo "lxtest: $passed passed, $failed failed"
[ "$failed" = 0 ]
