/* The spinlock is the kernel library's (kernel/lib/x86/spinlock.h). */
#ifndef HV_SPINLOCK_H
#define HV_SPINLOCK_H

#include "x86/spinlock.h"

#endif
