/*
 * Test-and-test-and-set spinlock, for every image; interrupts are the
 * caller's business.
 */
#ifndef KLIB_X86_SPINLOCK_H
#define KLIB_X86_SPINLOCK_H

#include <stdbool.h>
#include <isovisor/x86.h>

typedef struct {
	volatile int locked;
} spinlock_t;

static inline void spin_lock(spinlock_t *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

/* Give up after `spins` tries; true when the lock was taken. */
static inline bool spin_lock_timeout(spinlock_t *l, unsigned long spins)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE)) {
		if (!spins--)
			return false;
		cpu_relax();
	}
	return true;
}

static inline void spin_unlock(spinlock_t *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
