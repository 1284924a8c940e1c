/*
 * The test-exit port, like QEMU's isa-debug-exit (iosize 4): a write of
 * 1, 2 or 4 bytes to any of its four ports ends the partition's run with
 * that value through platform->test_exit(). Reads float high.
 */
#ifndef DRIVERS_TESTEXIT_H
#define DRIVERS_TESTEXIT_H

#include <stdbool.h>
#include <stdint.h>
#include "platform.h"

#define TESTEXIT_PORT   0xf4
#define TESTEXIT_PORTS  4

struct testexit {
	const struct platform *p;
	uint16_t port;
};

void testexit_init(struct testexit *t, const struct platform *p,
		   uint16_t port);

/* One guest port access: false when `port` is not one of the device's.
 * A write passes the value (its low `size` bytes) to test_exit(); a read
 * stores all-ones, zero-extended from `size` bytes. */
bool testexit_io(struct testexit *t, uint16_t port, unsigned size,
		 bool write, uint32_t *value);

#endif
