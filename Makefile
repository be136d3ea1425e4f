# L4-style microkernel for x86-64: build, run, test, bench.
#   make run     build and boot in QEMU (serial console on this terminal)
#   make test    host unit tests, then the kernel tests booted in QEMU
#   make bench   IPC benchmarks under -icount shift=0 (instruction counts)
#   make gdb     boot halted, with QEMU's gdb stub, and attach gdb
#   make fuzz    a long run of the system-call fuzzer: FUZZ_CALLS calls (default
#                5,000,000), seed FUZZ_SEED (default: random from the host, printed)
# Options: ACCEL=kvm (only with real VT-x/AMD-V), NDEBUG=1, TIMEOUT=seconds.

B := build
CC := gcc

COMMON_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror -ffreestanding -fno-stack-protector \
	-fno-asynchronous-unwind-tables -fcf-protection=none -mgeneral-regs-only \
	-fno-omit-frame-pointer -fno-tree-loop-distribute-patterns -Iinclude -MMD -MP
KERNEL_CFLAGS := $(COMMON_CFLAGS) -mcmodel=kernel -mno-red-zone -fno-pic -fno-pie
ifeq ($(NDEBUG),1)
KERNEL_CFLAGS += -DNDEBUG
endif
USER_CFLAGS := $(COMMON_CFLAGS) -fPIE
HOST_CFLAGS := -std=gnu11 -O1 -g -Wall -Wextra -Werror -Iinclude -DHOST_TEST -fsanitize=address,undefined

KERNEL_SRCS := $(wildcard kernel/*.c) $(wildcard kernel/arch/x86_64/*.c) \
	lib/common/fmt.c lib/common/string.c lib/common/elf.c
KERNEL_ASM := kernel/arch/x86_64/boot.S kernel/arch/x86_64/entry.S
KERNEL_OBJS = $(patsubst %.c,$(B)/$(1)/%.o,$(KERNEL_SRCS)) $(patsubst %.S,$(B)/$(1)/%.o,$(KERNEL_ASM))

LIB_SRCS := lib/runtime.c lib/threads.c lib/console.c lib/pager.c lib/test.c lib/common/fmt.c lib/common/string.c lib/common/elf.c
LIB_OBJS := $(patsubst %.c,$(B)/u/%.o,$(LIB_SRCS)) $(B)/u/lib/crt0.o

TESTS := $(patsubst tests/kernel/%.c,%,$(wildcard tests/kernel/t_*.c))
PROGRAMS := sigma0 root uart pingpong bench linux $(TESTS)
# Linux test programs: ordinary C built for Linux, with glibc and with musl
LINUX_TESTS := $(patsubst tests/linux/%.c,%,$(wildcard tests/linux/*.c))
LINUX_BENCHES := $(patsubst bench/linux/%.c,%,$(wildcard bench/linux/*.c))
LINUX_BINS := $(foreach t,$(LINUX_TESTS) $(LINUX_BENCHES),$(B)/lx/$(t)-glibc $(B)/lx/$(t)-musl)

.PHONY: all run test bench fuzz gdb clean deps host-test kernel-test
all: $(B)/kernel.bin $(B)/kernel-nofp.bin $(B)/kernel-release.bin $(foreach p,$(PROGRAMS),$(B)/$(p).elf) $(LINUX_BINS) $(B)/lx/initramfs.cpio $(B)/run.cfg $(B)/test.cfg $(B)/bench.cfg $(B)/bench-slow.cfg

deps:
	@tools/deps.sh

# ---- kernel ------------------------------------------------------------
# Two builds: build/kernel.* with the IPC fast path, build/kernel-nofp.*
# without it (CONFIG_FASTPATH=0) and with freed kernel pages poisoned
# (KMEM_POISON), for the second test run and the slow-path bench.
define kernel_build # $(1): object directory, $(2): output name, $(3): extra flags
$(B)/$(1)/%.o: %.c | deps
	@mkdir -p $$(dir $$@)
	$(CC) $(KERNEL_CFLAGS) $(3) -c $$< -o $$@
$(B)/$(1)/%.o: %.S | deps
	@mkdir -p $$(dir $$@)
	$(CC) $(KERNEL_CFLAGS) $(3) -c $$< -o $$@

# Two links: the first gives the addresses for the symbol table that panic
# backtraces use; the table sits after all code, so code does not move.
$(B)/$(2).elf: $(call KERNEL_OBJS,$(1)) kernel/arch/x86_64/linker.ld tools/gensyms.sh
	tools/gensyms.sh > $(B)/$(1)/ksyms0.S
	$(CC) -c $(B)/$(1)/ksyms0.S -o $(B)/$(1)/ksyms0.o
	ld $(KERNEL_LDFLAGS) -o $(B)/$(1)/pass1.elf $(call KERNEL_OBJS,$(1)) $(B)/$(1)/ksyms0.o
	tools/gensyms.sh $(B)/$(1)/pass1.elf > $(B)/$(1)/ksyms.S
	$(CC) -c $(B)/$(1)/ksyms.S -o $(B)/$(1)/ksyms.o
	ld $(KERNEL_LDFLAGS) -o $$@ $(call KERNEL_OBJS,$(1)) $(B)/$(1)/ksyms.o
	@nm $(B)/$(1)/pass1.elf | grep ' [tT] ' > $(B)/$(1)/syms1; nm $$@ | grep ' [tT] ' > $(B)/$(1)/syms2; \
	  cmp -s $(B)/$(1)/syms1 $(B)/$(1)/syms2 || { echo "kernel text moved between links"; exit 1; }

$(B)/$(2).bin: $(B)/$(2).elf
	objcopy -O binary $$< $$@
endef
KERNEL_LDFLAGS := -nostdlib -z max-page-size=4096 -z noexecstack --no-warn-rwx-segments -T kernel/arch/x86_64/linker.ld
$(eval $(call kernel_build,k,kernel,))
$(eval $(call kernel_build,k-nofp,kernel-nofp,-DCONFIG_FASTPATH=0 -DKMEM_POISON))
# The release build: no assertions.  Tested like the others; make bench
# measures it.
$(eval $(call kernel_build,k-rel,kernel-release,-DNDEBUG))

# ---- user programs -----------------------------------------------------
$(B)/u/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c $< -o $@
$(B)/u/%.o: %.S | deps
	@mkdir -p $(dir $@)
	$(CC) $(USER_CFLAGS) -c $< -o $@

define user_program
$(B)/$(1).elf: $(2) $(LIB_OBJS) lib/user.ld
	ld -nostdlib -static --no-relax -z max-page-size=4096 -z noexecstack -T lib/user.ld -o $$@ $(2) $(LIB_OBJS)
endef
$(eval $(call user_program,sigma0,$(B)/u/servers/sigma0/main.o))
$(eval $(call user_program,root,$(B)/u/servers/root/main.o $(B)/u/servers/root/bootcfg.o))
$(eval $(call user_program,uart,$(B)/u/servers/drivers/uart/main.o))
$(eval $(call user_program,pingpong,$(B)/u/bench/pingpong.o))
$(eval $(call user_program,bench,$(B)/u/bench/bench.o))
$(eval $(call user_program,linux,$(patsubst %.c,$(B)/u/%.o,$(wildcard servers/linux/*.c))))

# Unmodified Linux programs: static, for the Linux server to run.
define linux_program # $(1): source directory
$(B)/lx/%-glibc: $(1)/%.c $(wildcard $(1)/*.h) | deps
	@mkdir -p $$(dir $$@)
	gcc -static -O2 -Wall -Werror -o $$@ $$<
$(B)/lx/%-musl: $(1)/%.c $(wildcard $(1)/*.h) | deps
	@mkdir -p $$(dir $$@)
	musl-gcc -static -O2 -Wall -Werror -o $$@ $$<
endef
# The Linux server's root file system for make run: busybox and /init.
$(B)/lx/initramfs.cpio: tools/mkinitramfs.sh tools/init.sh | deps
	tools/mkinitramfs.sh $@
$(eval $(call linux_program,tests/linux))
$(eval $(call linux_program,bench/linux))
$(foreach t,$(TESTS),$(eval $(call user_program,$(t),$(B)/u/tests/kernel/$(t).o)))

# The initramfs of tests/linux/fs_test.c: tests/linux/fs_root and what git
# does not keep (empty directories, modes, a hard link, a longer file).
$(B)/lx/fs_root.cpio: $(shell find tests/linux/fs_root) | deps
	@rm -rf $(B)/lx/fs_root && mkdir -p $(B)/lx && cp -a tests/linux/fs_root $(B)/lx/fs_root
	cd $(B)/lx/fs_root && mkdir -p tmp proc empty && chmod 1777 tmp && chmod 600 etc/secret && \
		ln -f etc/hello.txt etc/hard.txt && seq 1 3000 > etc/numbers && \
		find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet > ../fs_root.cpio
all: $(B)/lx/fs_root.cpio

$(B)/%.cfg: tools/%.cfg
	@mkdir -p $(B)
	cp $< $@

# ---- running -----------------------------------------------------------
run: all
	tools/qemu.sh run

# Both suites always run; tools/summary.sh judges them together.
test: all $(B)/host-tests
	$(B)/host-tests > $(B)/host-test.log 2>&1 || true
	tools/qemu.sh test > $(B)/kernel-test.log 2>&1 || true
	KERNEL=$(B)/kernel-nofp.bin tools/qemu.sh test > $(B)/kernel-test-nofp.log 2>&1 || true
	KERNEL=$(B)/kernel-release.bin tools/qemu.sh test > $(B)/kernel-test-release.log 2>&1 || true
	tools/qemu.sh panictest > $(B)/panic-test.log 2>&1 || true
	tools/lxtest.sh > $(B)/lxtest.log 2>&1 || true
	@LXTEST_LOG=$(B)/lxtest.log tools/summary.sh $(B)/host-test.log $(B)/kernel-test.log $(B)/panic-test.log $(B)/kernel-test-nofp.log \
		$(B)/kernel-test-release.log

kernel-test: all
	tools/qemu.sh test

bench: all
	KERNEL=$(B)/kernel-release.bin bash -o pipefail -c 'tools/qemu.sh bench | tee $(B)/bench.log'
	@KERNEL=$(B)/kernel-nofp.bin BENCH_CFG=bench-slow.cfg tools/qemu.sh bench | grep '^BENCH'
	@WANT_NATIVE=1 tools/deps.sh
	@tools/native.sh $(B)/bench.log

# tests/kernel/t_fuzz.c with tools/fuzz.cfg, on the normal kernel (KERNEL=
# for another); the log is build/fuzz.log, the summary lines go to the
# terminal.  Fails on a failed check, a panic or a time-out (TIMEOUT,
# default 1800 s here).
fuzz: all
	@tools/qemu.sh fuzz > $(B)/fuzz.log 2>&1; rc=$$?; \
	grep -a -E '^(fuzz: |# t_fuzz|# fuzz|# reproduce|ok |not ok |root: all done|HARNESS)|PANIC' $(B)/fuzz.log; \
	echo "fuzz: log in $(B)/fuzz.log"; exit $$rc

gdb: all
	tools/qemu.sh gdb

# ---- host unit tests ---------------------------------------------------
HOST_TEST_SRCS := $(wildcard tests/host/*.c) kernel/runq.c kernel/tidtab.c kernel/kmem.c kernel/slab.c \
	lib/common/elf.c lib/common/fmt.c servers/root/bootcfg.c
$(B)/host-tests: $(HOST_TEST_SRCS) $(wildcard tests/host/*.h)
	@mkdir -p $(B)
	gcc $(HOST_CFLAGS) -fno-builtin -o $@ $(HOST_TEST_SRCS)

host-test: $(B)/host-tests
	$(B)/host-tests

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
