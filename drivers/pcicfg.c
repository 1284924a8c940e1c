/*
 * The PCI configuration mechanism #1 model (pcicfg.h). Every data access
 * is handled byte by byte through the function's effective write mask;
 * BAR sizing needs no special case because the BAR bytes' mask is
 * exactly the address bits the size leaves writable.
 */
#include <string.h>
#include "pcicfg.h"

/* Logged for the first 8 and then at powers of two: an OS probing the
 * extended configuration space through CONFIG_ADDRESS bits 27:24 (AMD's
 * ECS, which this bridge does not have) does it dozens of times. */
static void pcicfg_reject(struct pcicfg *c, const char *msg)
{
	c->rejected++;
	if (c->p->log && (c->rejected <= 8 || !(c->rejected & (c->rejected - 1))))
		c->p->log(c->p->ctx, msg);
}

static struct pcicfg_function *lookup(struct pcicfg *c, uint8_t dev,
				      uint8_t fn)
{
	for (unsigned i = 0; i < PCICFG_MAX_FUNCTIONS; i++) {
		struct pcicfg_function *f = &c->fn[i];

		if (f->present && f->dev == dev && f->fn == fn)
			return f;
	}
	return NULL;
}

static void put32(uint8_t *b, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		b[i] = (uint8_t)(v >> (8 * i));
}

static bool power_of_two(uint32_t v)
{
	return v && !(v & (v - 1));
}

static uint32_t get32(const uint8_t *b)
{
	return b[0] | b[1] << 8 | b[2] << 16 | (uint32_t)b[3] << 24;
}

/* BARs the header type has: 6 for a device, 2 for a PCI-PCI bridge,
 * whose 0x18-0x27 are bus numbers and windows. */
static unsigned bar_count(const struct pcicfg_function *f)
{
	switch (f->config[PCI_HEADER_TYPE] & 0x7f) {
	case 0:
		return 6;
	case 1:
		return 2;
	default:
		return 0;
	}
}

/*
 * Give each BAR its mask from its size alone (the address bits above the
 * size; an unimplemented BAR, size 0, is read-only) and clear the address
 * bits below the size in its initial value, which the hardware ties to
 * zero; the type bits stay. -1 for a bad size.
 */
static int setup_bars(struct pcicfg_function *f, const uint32_t sizes[6])
{
	unsigned n = bar_count(f);

	for (unsigned i = 0; i < 6; i++) {
		uint8_t *bar = &f->config[PCI_BAR0 + 4 * i];
		uint8_t *mask = &f->wmask[PCI_BAR0 + 4 * i];
		uint32_t size = sizes[i], m, flags;
		bool io = bar[0] & PCI_BAR_IO;

		if (i >= n) {
			if (size)
				return -1;
			continue;
		}
		if (!size) {
			put32(mask, 0);
			continue;
		}
		if (!power_of_two(size) || (io && (size < 4 || size > 256)) ||
		    (!io && size < 16))
			return -1;
		m = ~(size - 1) & (io ? ~3u : ~15u);
		flags = io ? PCI_BAR_IO : bar[0] & 0x0f;
		put32(mask, m);
		put32(bar, (get32(bar) & m) | flags);
		if (!io && (bar[0] & PCI_BAR_MEM_TYPE_MASK) == PCI_BAR_MEM_64) {
			if (i + 1 >= n || sizes[i + 1])
				return -1;
			i++;
			put32(&f->wmask[PCI_BAR0 + 4 * i], 0xffffffff);
		}
	}
	return 0;
}

int pcicfg_add_device(struct pcicfg *c, uint8_t dev, uint8_t fn,
		      const uint8_t config[256],
		      const uint8_t writable_mask[256],
		      const uint32_t bar_sizes[6])
{
	static const uint32_t no_bars[6];
	struct pcicfg_function *f = NULL;

	if (dev >= 32 || fn >= 8 || !config || !writable_mask ||
	    lookup(c, dev, fn))
		return -1;
	for (unsigned i = 0; i < PCICFG_MAX_FUNCTIONS && !f; i++)
		if (!c->fn[i].present)
			f = &c->fn[i];
	if (!f)
		return -1;
	memcpy(f->config, config, PCICFG_SPACE);
	memcpy(f->wmask, writable_mask, PCICFG_SPACE);
	if (setup_bars(f, bar_sizes ? bar_sizes : no_bars) < 0)
		return -1;
	f->dev = dev;
	f->fn = fn;
	f->present = true;
	return 0;
}

/* The 440FX host bridge as QEMU's i440fx presents it, minus chipset
 * registers the model does not emulate (PAM, SMRAM: read as zero). */
static void add_host_bridge(struct pcicfg *c)
{
	uint8_t config[PCICFG_SPACE] = { 0 }, mask[PCICFG_SPACE] = { 0 };

	config[PCI_VENDOR_ID] = 0x86;
	config[PCI_VENDOR_ID + 1] = 0x80;
	config[PCI_DEVICE_ID] = 0x37;
	config[PCI_DEVICE_ID + 1] = 0x12;
	config[PCI_COMMAND] = 0x06;             /* memory, bus master */
	config[PCI_STATUS + 1] = 0x02;          /* DEVSEL medium */
	config[PCI_REVISION] = 0x02;
	config[PCI_CLASS_PROG + 2] = 0x06;      /* bridge: host */
	mask[PCI_STATUS + 1] = 0xf9;            /* error bits, RW1C */
	pcicfg_add_device(c, 0, 0, config, mask, NULL);
}

void pcicfg_init(struct pcicfg *c, const struct platform *p)
{
	memset(c, 0, sizeof(*c));
	c->p = p;
	add_host_bridge(c);
}

/* The function CONFIG_ADDRESS selects, or NULL: disabled, or nothing
 * there. */
static struct pcicfg_function *selected(struct pcicfg *c)
{
	uint32_t a = c->address;
	struct pcicfg_function *f;

	if (!(a & PCICFG_ENABLE))
		return NULL;
	if ((a >> 16 & 0xff) != 0)
		f = NULL;
	else
		f = lookup(c, a >> 11 & 31, a >> 8 & 7);
	if (!f)
		c->master_aborts++;
	return f;
}

static void config_write(struct pcicfg_function *f, unsigned off, uint8_t v)
{
	uint8_t m = f->wmask[off];

	if (off == PCI_STATUS || off == PCI_STATUS + 1)
		f->config[off] &= (uint8_t)~(v & m);    /* write one to clear */
	else
		f->config[off] = (uint8_t)((f->config[off] & ~m) | (v & m));
}

static void data_io(struct pcicfg *c, unsigned port, unsigned size,
		    bool write, uint32_t *value)
{
	struct pcicfg_function *f = selected(c);
	unsigned reg = c->address & 0xfc;
	uint32_t result = 0;

	for (unsigned i = 0; i < size; i++) {
		unsigned byte = port - PCICFG_PORT_DATA + i;
		uint8_t b = 0xff;

		if (byte < 4 && f) {
			if (write)
				config_write(f, reg + byte,
					     (uint8_t)(*value >> (8 * i)));
			else
				b = f->config[reg + byte];
		}
		result |= (uint32_t)b << (8 * i);
	}
	if (!write)
		*value = result;
}

bool pcicfg_io(struct pcicfg *c, uint16_t port, unsigned size, bool write,
	       uint32_t *value)
{
	if (port >= PCICFG_PORT_ADDRESS && port < PCICFG_PORT_DATA) {
		if (port != PCICFG_PORT_ADDRESS || size != 4)
			return false;
		if (!write) {
			*value = c->address;
		} else {
			if (*value & ~PCICFG_ADDRESS_MASK)
				pcicfg_reject(c, "pcicfg: CONFIG_ADDRESS "
					      "reserved bits set, masked");
			c->address = *value & PCICFG_ADDRESS_MASK;
		}
		return true;
	}
	if (port < PCICFG_PORT_DATA || port > PCICFG_PORT_DATA + 3)
		return false;
	if (size != 1 && size != 2 && size != 4) {
		pcicfg_reject(c, "pcicfg: bad port access size");
		if (!write)
			*value = 0xffffffff;
		return true;
	}
	data_io(c, port, size, write, value);
	return true;
}
