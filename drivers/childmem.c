/*
 * A child's RAM for the back-ends' copies (see childmem.h).
 */
#include <string.h>
#include "childmem.h"

void childmem_init(struct childmem *m, const struct partsvc *ps, uint64_t id,
		   uint64_t memory_bytes, struct childmem_slot *slots, unsigned n)
{
	m->ps = ps;
	m->id = id;
	m->memory_bytes = memory_bytes;
	m->slot = slots;
	m->slots = n;
	m->misses = 0;
	memset(slots, 0, n * sizeof(*slots));
}

/* The child's page `pfn` in our address space, or NULL. */
static uint8_t *page(struct childmem *m, uint64_t pfn)
{
	struct childmem_slot *s;
	uint8_t *va;

	if (!m->ps->map_page || !m->slots)
		return NULL;
	s = &m->slot[pfn % m->slots];
	if (s->tag == pfn + 1)
		return s->va;
	va = m->ps->map_page(m->id, pfn);
	if (!va)
		return NULL;
	if (s->tag)
		m->ps->unmap_page(m->id, s->va);
	s->tag = pfn + 1;
	s->va = va;
	m->misses++;
	return va;
}

int childmem_copy(struct childmem *m, uint64_t gpa, void *buf, uint64_t len, bool out)
{
	if (!child_ram_contains(m->memory_bytes, gpa, len))
		return -1;
	while (len) {
		uint64_t off = gpa & 4095, n = 4096 - off < len ? 4096 - off : len;
		uint8_t *va = page(m, gpa >> 12);

		if (va && out)
			memcpy(va + off, buf, n);
		else if (va)
			memcpy(buf, va + off, n);
		else if (out ? m->ps->copy_to(m->id, gpa, buf, n) :
			       m->ps->copy_from(m->id, gpa, buf, n))
			return -1;
		gpa += n;
		buf = (uint8_t *)buf + n;
		len -= n;
	}
	return 0;
}

void childmem_clear(struct childmem *m)
{
	for (unsigned i = 0; i < m->slots; i++)
		if (m->slot[i].tag) {
			m->ps->unmap_page(m->id, m->slot[i].va);
			m->slot[i].tag = 0;
		}
}
