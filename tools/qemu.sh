#!/bin/bash
# The one place QEMU is started, for run, test, bench and gdb.
#   tools/qemu.sh run|test|bench|fuzz|gdb|panictest|boot|native
# QEMU runs under TCG (-accel tcg -cpu max).  ACCEL=kvm opts into KVM, for
# machines with real VT-x/AMD-V only: a software hypervisor posing as
# /dev/kvm (PVM) breaks user-mode SYSCALL in the guest.
set -u
mode=${1:-run}
B=${B:-build}
ACCEL=${ACCEL:-tcg}
[ "$mode" = fuzz ] && TIMEOUT=${TIMEOUT:-1800} # make fuzz: a long run
TIMEOUT=${TIMEOUT:-180}
cd "$(dirname "$0")/.."
CONSOLE_INPUT=uart-input-test-0123456789 # tests/kernel/t_console.c reads it

modules() { # config file, then programs it names
	local cfg=$1
	local mods="$B/sigma0.elf,$B/root.elf,$B/$cfg"
	for p in $(awk '$1 == "run" || $1 == "start" || $1 == "console" || $1 == "module" { print $2 }' "$B/$cfg" | sort -u); do
		mods="$mods,$B/$p"
	done
	echo "$mods"
}

# The kernel leaves QEMU through isa-debug-exit with 0x40 | code, so QEMU
# exits with 129 + 2 * code (code 63: a panic).  Give back the code; any
# other status is QEMU's own.
exit_status() {
	local rc=$1
	if [ "$rc" = 124 ]; then
		echo "HARNESS: QEMU timed out after ${TIMEOUT}s"
		exit 124
	fi
	if [ "$rc" -ge 129 ] && [ $((rc & 1)) = 1 ]; then
		exit $(((rc - 129) / 2))
	fi
	echo "HARNESS: QEMU failed with status $rc"
	exit "$rc"
}

if [ "$ACCEL" = kvm ]; then
	accel=(-accel kvm -cpu host)
else
	accel=(-accel tcg -cpu max)
fi
base=(qemu-system-x86_64 "${accel[@]}" -m 512M -no-reboot -display none
	-device isa-debug-exit,iobase=0xf4,iosize=4 -kernel "${KERNEL:-$B/kernel.bin}")

case "$mode" in
native)
	# Debian's own Linux kernel (NATIVE_KERNEL) with the initramfs
	# NATIVE_INITRD, the same QEMU and -icount: the native side of make bench
	timeout --foreground -k 5 "$TIMEOUT" qemu-system-x86_64 "${accel[@]}" -m 512M -no-reboot -display none \
		-icount shift=0 -serial stdio -monitor none -kernel "$NATIVE_KERNEL" -initrd "$NATIVE_INITRD" \
		-append "console=ttyS0 quiet panic=-1 rdinit=/init" </dev/null
	exit $?
	;;
run)
	exec "${base[@]}" -serial mon:stdio -initrd "$(modules run.cfg)"
	;;
test)
	# COM1 receives one line, which t_console must read back.  QEMU's
	# stdin is a FIFO that gets the line once the kernel has printed its
	# first line: the kernel's UART set-up empties the receive FIFO, so
	# bytes passed in before it would be lost.  Until the driver reads
	# them they wait in the UART's FIFO and in QEMU.
	fifo=$(mktemp -u)
	mkfifo "$fifo" && exec 3<>"$fifo" && rm -f "$fifo" || exit 1
	timeout --foreground -k 5 "$TIMEOUT" "${base[@]}" -serial stdio -monitor none \
		-append "panic=exit" -initrd "$(modules test.cfg)" <&3 3>&- |
		{
			IFS= read -r line && printf '%s\n' "$line"
			printf '%s\n' "$CONSOLE_INPUT" >&3
			exec 3>&- cat
		}
	exit_status "${PIPESTATUS[0]}"
	;;
boot)
	# Any configuration (CFG, in the build directory), the terminal's input
	# passed to COM1: what tools/lxrun uses.  With INPUT (a file), COM1
	# gets that file's lines instead, once the kernel has printed its first
	# line (as for test); QEMU takes them in as fast as the UART does.  In
	# the lines, printf's escapes count (\003 is Ctrl-C), and a line
	# "@sleep N" is a pause of N seconds instead.
	if [ -n "${INPUT:-}" ]; then
		fifo=$(mktemp -u)
		mkfifo "$fifo" && exec 3<>"$fifo" && rm -f "$fifo" || exit 1
		timeout --foreground -k 5 "$TIMEOUT" "${base[@]}" -serial stdio -monitor none \
			-append "panic=exit" -initrd "$(modules "${CFG:?CFG names the configuration}")" <&3 3>&- |
			{
				IFS= read -r line && printf '%s\n' "$line"
				{
					while IFS= read -r l; do
						case "$l" in
						"@sleep "*) sleep "${l#@sleep }" ;;
						*) printf '%b\n' "$l" >&3 ;;
						esac
					done <"$INPUT"
					exec 3>&-
				} &
				exec 3>&- cat
			}
		exit_status "${PIPESTATUS[0]}"
	fi
	timeout --foreground -k 5 "$TIMEOUT" "${base[@]}" -serial stdio -monitor none \
		-append "panic=exit" -initrd "$(modules "${CFG:?CFG names the configuration}")"
	exit_status $?
	;;
panictest)
	TIMEOUT=60
	timeout --foreground -k 5 "$TIMEOUT" "${base[@]}" -serial stdio -monitor none \
		-append "panic=exit selftest=panic" -initrd "$(modules test.cfg)" </dev/null
	exit_status $?
	;;
bench)
	# One guest TSC tick per instruction: rdtsc deltas count instructions.
	timeout --foreground -k 5 "$TIMEOUT" "${base[@]}" -icount shift=0 -serial stdio -monitor none \
		-append "panic=exit" -initrd "$(modules ${BENCH_CFG:-bench.cfg})" </dev/null
	exit_status $?
	;;
fuzz)
	# tools/fuzz.cfg with the number of calls and a seed from the host
	# (random unless FUZZ_SEED is given) put in: one long run of t_fuzz.
	calls=${FUZZ_CALLS:-5000000}
	seed=${FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
	echo "fuzz: $calls calls, seed $seed (again with: make fuzz FUZZ_SEED=$seed FUZZ_CALLS=$calls)"
	sed -e "s/@CALLS@/$calls/g" -e "s/@SEED@/$seed/g" tools/fuzz.cfg >"$B/fuzz.cfg" || exit 1
	timeout --foreground -k 5 "$TIMEOUT" "${base[@]}" -serial stdio -monitor none \
		-append "panic=exit" -initrd "$(modules fuzz.cfg)" </dev/null
	exit_status $?
	;;
gdb)
	port=$((1234 + $(id -u) % 1000))
	"${base[@]}" -serial file:$B/gdb-serial.log -S -gdb tcp::$port -initrd "$(modules run.cfg)" &
	qpid=$!
	echo "QEMU halted, gdb stub on port $port; serial output in $B/gdb-serial.log"
	gdb -q $B/kernel.elf -ex "target remote :$port"
	kill $qpid 2>/dev/null
	;;
*)
	echo "usage: $0 run|test|bench|fuzz|gdb|panictest|boot|native" >&2
	exit 2
	;;
esac
