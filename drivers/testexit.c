/*
 * The test-exit port (see testexit.h). QEMU's isa-debug-exit turns value
 * v into exit status (v << 1) | 1; here the raw value goes to the
 * platform, which decides what the run's status is.
 */
#include "testexit.h"

void testexit_init(struct testexit *t, const struct platform *p,
		   uint16_t port)
{
	t->p = p;
	t->port = port;
}

bool testexit_io(struct testexit *t, uint16_t port, unsigned size,
		 bool write, uint32_t *value)
{
	uint32_t mask;

	if (port < t->port || port - t->port >= TESTEXIT_PORTS)
		return false;
	if (size != 1 && size != 2 && size != 4) {
		if (t->p && t->p->log)
			t->p->log(t->p->ctx, "testexit: bad port access size");
		if (!write)
			*value = 0xffffffff;
		return true;
	}
	mask = size == 4 ? 0xffffffff : (1u << (8 * size)) - 1;
	if (!write)
		*value = mask;
	else if (t->p && t->p->test_exit)
		t->p->test_exit(t->p->ctx, *value & mask);
	return true;
}
