/* The kernel interface page, filled at boot (boot.c). */
#ifndef KERNEL_KIP_H
#define KERNEL_KIP_H

#include <l4/kip.h>

extern struct l4_kip *kip_page;

#endif
