/* Constants shared by the assembly files and C. */
#ifndef ARCH_ASM_H
#define ARCH_ASM_H

#define KERNEL_VMA 0xffffffff80000000
#define DIRECT_MAP 0xffff800000000000

#ifndef CONFIG_FASTPATH
#define CONFIG_FASTPATH 1 /* build with -DCONFIG_FASTPATH=0 to leave it out */
#endif

/* GDT selectors.  SYSRET requires user data = STAR[63:48] + 8 and user
 * code = STAR[63:48] + 16, hence the order. */
#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b /* 0x18 | RPL 3 */
#define SEL_UCODE 0x23 /* 0x20 | RPL 3 */
#define SEL_TSS 0x28

/* Frame vector value that marks a frame built by the SYSCALL entry. */
#define VEC_SYSCALL 0x100

/* Offsets in struct frame (see arch.h). */
#define FR_VEC (15 * 8)
#define FR_SIZE (22 * 8)

#endif
