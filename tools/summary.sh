#!/bin/sh
# Reads the host unit-test log and the QEMU kernel-test log, prints every
# failure and one closing line "N passed, N failed".  Fails on any "not ok",
# a kernel panic, a time-out or a missing end-of-run marker.
host=$1
kern=$2
panictest=${3:-}
shift 3 2>/dev/null || shift $#
more_kern="$*" # further kernel-test logs (the run without the fast path)
passed=0
failed=0
count() { grep -a -c "$1" "$2" 2>/dev/null || true; }

# t_console's output through the console driver: after
# "# con-expect order N mix M L long K" the log must hold the lines
# "con-order 00/N from A end" .. with A and B alternating, in order; M
# lines "con-mix A|B NN" + L times a|b + " end", each whole; and one
# "con-long" + K times L + " end".  Prints what is wrong; silent if right
# (a log without t_console fails too).
console_lines() {
	tr -d '\r' <"$1" | awk '
	/^# con-expect / { order = $4; mix = $6; mixlen = $7; long = $9; expect = 1 }
	/^con-order / { order_seen[norder++] = $0 }
	/^con-mix / {
		nmix++
		if (!($0 ~ /^con-mix A [0-9][0-9] a+ end$/ || $0 ~ /^con-mix B [0-9][0-9] b+ end$/)) badmix++
		else mixlens[length($4)]++
	}
	/^con-long / { nlong++; if ($0 !~ /^con-long L+ end$/) badlong++; else longlen = length($2) }
	END {
		if (!expect) { print "t_console did not run (no \"# con-expect\" line)"; exit 1 }
		for (k = 0; k < order; k++) {
			want = sprintf("con-order %02d/%02d from %s end", k, order, k % 2 ? "B" : "A")
			if (order_seen[k] != want) { print "con-order line " k " is \"" order_seen[k] "\", not \"" want "\""; bad = 1; break }
		}
		if (norder != order) { print norder " con-order lines, not " order; bad = 1 }
		if (nmix != mix || badmix || mixlens[mixlen] != mix) { print nmix " con-mix lines, " badmix " broken, not " mix " whole ones of " mixlen; bad = 1 }
		if (nlong != 1 || badlong || longlen != long) { print "the con-long line is broken"; bad = 1 }
		exit bad
	}'
}
if [ -f "$host" ]; then
	hp=$(sed -n 's/^host: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$host" | tail -1)
	hf=$(sed -n 's/^host: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$host" | tail -1)
	if [ -z "$hp" ]; then echo "host unit tests did not finish"; failed=$((failed + 1)); else
		passed=$((passed + hp)); failed=$((failed + hf)); fi
else
	echo "no host test log"; failed=$((failed + 1))
fi
if [ -f "$kern" ]; then
	kp=$(count '^ok ' "$kern")
	kf=$(count '^not ok ' "$kern")
	passed=$((passed + kp)); failed=$((failed + kf))
	grep -a '^not ok ' "$kern"
	if grep -a -q 'PANIC' "$kern"; then echo "kernel panic:"; sed -n '/PANIC/,$p' "$kern" | head -40; failed=$((failed + 1)); fi
	if grep -a -q '^HARNESS: QEMU timed out' "$kern"; then echo "kernel tests timed out"; tail -20 "$kern"; failed=$((failed + 1)); fi
	if ! grep -a -q '^root: all done' "$kern"; then echo "kernel tests did not reach the end"; tail -20 "$kern"; failed=$((failed + 1)); fi
	if console_lines "$kern"; then passed=$((passed + 1)); else echo "not ok - console output in $kern"; failed=$((failed + 1)); fi
else
	echo "no kernel test log"; failed=$((failed + 1))
fi
for k in $more_kern; do
	kp=$(count '^ok ' "$k")
	kf=$(count '^not ok ' "$k")
	passed=$((passed + kp)); failed=$((failed + kf))
	grep -a '^not ok ' "$k" | sed "s|^|[$k] |"
	if grep -a -q 'PANIC' "$k"; then echo "kernel panic in $k:"; sed -n '/PANIC/,$p' "$k" | head -40; failed=$((failed + 1)); fi
	if grep -a -q '^HARNESS: QEMU timed out' "$k"; then echo "$k: kernel tests timed out"; failed=$((failed + 1)); fi
	if ! grep -a -q '^root: all done' "$k"; then echo "$k did not reach the end"; tail -20 "$k"; failed=$((failed + 1)); fi
	if console_lines "$k"; then passed=$((passed + 1)); else echo "not ok - console output in $k"; failed=$((failed + 1)); fi
done

# Busybox on the Linux server (tools/lxtest.sh), if its log is there.
lxtest=${LXTEST_LOG:-}
if [ -n "$lxtest" ]; then
	lp=$(sed -n 's/^lxtest: \([0-9]*\) passed, \([0-9]*\) failed$/\1/p' "$lxtest" 2>/dev/null | tail -1)
	lf=$(sed -n 's/^lxtest: \([0-9]*\) passed, \([0-9]*\) failed$/\2/p' "$lxtest" 2>/dev/null | tail -1)
	if [ -z "$lp" ]; then echo "the busybox tests did not finish"; tail -20 "$lxtest"; failed=$((failed + 1)); else
		passed=$((passed + lp)); failed=$((failed + lf)); sed -n '/^not ok /,/^[^#]/p' "$lxtest" | grep -v '^ok '; fi
fi

# A deliberate panic (boot option selftest=panic) must print the reason, the
# registers and a symbolized backtrace before QEMU stops (code 63).
if [ -n "$panictest" ]; then
	if grep -a -q '^PANIC: self-test' "$panictest" && grep -a -q '^cr0 .* cr3 ' "$panictest" &&
		grep -a -q '^  ffffffff8[0-9a-f]* kmain+0x' "$panictest" &&
		! grep -a -q '^root: started' "$panictest"; then
		passed=$((passed + 1))
	else
		echo "not ok - a kernel panic prints reason, registers and a symbolized backtrace:"
		cat "$panictest"
		failed=$((failed + 1))
	fi
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
