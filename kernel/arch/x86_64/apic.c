/*
 * The local APIC timer drives preemption.  Both the TSC and the APIC timer
 * are calibrated against the PIT, whose rate is fixed; under QEMU's
 * -icount the PIT follows virtual time, so the figures stay consistent.
 */
#include "arch.h"
#include "../../kernel.h"

#define LAPIC_ID 0x20
#define LAPIC_EOI 0xb0
#define LAPIC_SVR 0xf0
#define LAPIC_LVT_TIMER 0x320
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3e0
#define PIT_HZ 1193182u
#define CALIBRATE_MS 10

u64 tsc_hz, timer_hz;
static volatile u32 *lapic;

static u32 lapic_read(u32 reg) { return lapic[reg / 4]; }
static void lapic_write(u32 reg, u32 v) { lapic[reg / 4] = v; }

void lapic_eoi(void) { lapic_write(LAPIC_EOI, 0); }
u32 lapic_id(void) { return lapic_read(LAPIC_ID) >> 24; }

static void pic_disable(void)
{
	/* Remap the 8259s away from the exception vectors, then mask them. */
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x30);
	outb(0xa1, 0x38);
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

/* Busy-wait CALIBRATE_MS on PIT channel 2; returns the TSC ticks taken and
 * the APIC-timer ticks through *apic_ticks. */
static u64 pit_wait(u32 *apic_ticks)
{
	u32 count = PIT_HZ * CALIBRATE_MS / 1000;
	outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
	outb(0x43, 0xb0);                       /* channel 2, lo/hi, mode 0 */
	outb(0x42, count & 0xff);
	outb(0x42, count >> 8);
	lapic_write(LAPIC_TIMER_INIT, 0xffffffff);
	u64 t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		;
	u64 t1 = rdtsc();
	*apic_ticks = 0xffffffff - lapic_read(LAPIC_TIMER_CUR);
	return t1 - t0;
}

void timer_init(void)
{
	pic_disable();
	if (!kmap_mmio(LAPIC_PHYS))
		panic("cannot map the local APIC");
	lapic = (volatile u32 *)P2V(LAPIC_PHYS);
	wrmsr(MSR_APIC_BASE, rdmsr(MSR_APIC_BASE) | (1 << 11));
	lapic_write(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_write(LAPIC_TIMER_DIV, 0x3); /* divide by 16 */
	lapic_write(LAPIC_LVT_TIMER, 1 << 16); /* masked while calibrating */
	u32 apic_ticks;
	u64 tsc = pit_wait(&apic_ticks);
	tsc_hz = tsc * (1000 / CALIBRATE_MS);
	timer_hz = KERNEL_HZ;
	u32 per_tick = apic_ticks * (1000 / CALIBRATE_MS) / KERNEL_HZ;
	if (per_tick == 0)
		per_tick = 1;
	lapic_write(LAPIC_LVT_TIMER, VEC_TIMER | (1 << 17)); /* periodic */
	lapic_write(LAPIC_TIMER_INIT, per_tick);
	printk("timer: TSC %llu kHz, APIC timer %u ticks per %u Hz tick\n", tsc_hz / 1000,
	       per_tick, KERNEL_HZ);
}
