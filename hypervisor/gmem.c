/*
 * Guest memory, seen from the hypervisor: the one choke point through
 * which exit handlers read and write a partition's memory. A GPA range is
 * usable only when all of it is RAM the partition owns; guest virtual
 * addresses go through the VP's own page tables first.
 */
#include <string.h>
#include "hv.h"
#include "gmem.h"
#include "virt.h"
#include "arch/x86/cpu.h"

static bool owns(struct partition *p, uint64_t gpa, uint64_t len)
{
	bool yes = false;

	if (!len || gpa + len < gpa)
		return false;
	spin_lock(&p->ram_lock);
	for (unsigned i = 0; i < p->ram.count && !yes; i++)
		yes = gpa >= p->ram.r[i].start && gpa + len <= p->ram.r[i].end;
	spin_unlock(&p->ram_lock);
	return yes;
}

void *gpa_to_hva(struct partition *p, uint64_t gpa, uint64_t len)
{
	uint64_t hpa;

	if (!owns(p, gpa, len))
		return NULL;
	if (p->is_root)
		return phys_to_virt(gpa);       /* identity-mapped */
	/* A child's pages are scattered: the range must stay in one page. */
	if ((gpa & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		return NULL;
	hpa = virt->gpa_translate(p, gpa);
	return hpa == (uint64_t)-1 ? NULL : phys_to_virt(hpa);
}

int gpa_read(struct partition *p, uint64_t gpa, void *buf, uint64_t len)
{
	const void *src = gpa_to_hva(p, gpa, len);

	if (!src)
		return -1;
	memcpy(buf, src, len);
	return 0;
}

int gpa_write(struct partition *p, uint64_t gpa, const void *buf, uint64_t len)
{
	void *dst = gpa_to_hva(p, gpa, len);

	if (!dst)
		return -1;
	memcpy(dst, buf, len);
	return 0;
}

static int read_entry(struct partition *p, uint64_t gpa, unsigned size,
		      uint64_t *e)
{
	uint32_t v32;

	if (size == 4) {
		if (gpa_read(p, gpa, &v32, 4))
			return -1;
		*e = v32;
		return 0;
	}
	return gpa_read(p, gpa, e, 8);
}

/* Walk the guest's page tables for `gva`. Accessed/dirty bits are left
 * alone: the hypervisor only reads code and data the guest just used. */
int gva_to_gpa(struct vp *vp, uint64_t gva, uint64_t *gpa)
{
	struct vp_regs_view r;
	struct partition *p = vp->partition;
	uint64_t table, e = 0;
	int levels;
	unsigned esize;

	virt->vp_read_regs(vp, &r);
	if (!(r.cr0 & CR0_PG)) {
		*gpa = r.efer & EFER_LMA ? gva : (uint32_t)gva;
		return 0;
	}
	if (r.efer & EFER_LMA) {
		levels = (r.cr4 & (1ull << 12)) ? 5 : 4;        /* LA57 */
		esize = 8;
		table = r.cr3 & PTE_ADDR_MASK;
	} else if (r.cr4 & CR4_PAE) {
		uint64_t pdpte;

		gva = (uint32_t)gva;
		if (read_entry(p, (r.cr3 & 0xffffffe0) + ((gva >> 30) & 3) * 8,
			       8, &pdpte) || !(pdpte & PTE_P))
			return -1;
		levels = 2;
		esize = 8;
		table = pdpte & PTE_ADDR_MASK;
	} else {
		gva = (uint32_t)gva;
		levels = 2;
		esize = 4;
		table = r.cr3 & 0xfffff000;
	}
	for (int l = levels - 1; l >= 0; l--) {
		unsigned shift = esize == 8 ? 12 + 9 * l : 12 + 10 * l;
		unsigned idx_mask = esize == 8 ? 511 : 1023;

		if (read_entry(p, table + ((gva >> shift) & idx_mask) * esize,
			       esize, &e) || !(e & PTE_P))
			return -1;
		if (l > 0 && (e & PTE_PS)) {
			uint64_t size = 1ull << shift;
			uint64_t base = esize == 8 ? e & PTE_ADDR_MASK :
					((e & 0xffc00000) | ((e & 0x1fe000) << 19));

			*gpa = (base & ~(size - 1)) | (gva & (size - 1));
			return 0;
		}
		table = esize == 8 ? e & PTE_ADDR_MASK : e & 0xfffff000;
	}
	*gpa = table | (gva & 0xfff);
	return 0;
}

int gva_read(struct vp *vp, uint64_t gva, void *buf, uint64_t len)
{
	uint8_t *out = buf;

	while (len) {
		uint64_t chunk = PAGE_SIZE - (gva & (PAGE_SIZE - 1)), gpa;

		if (chunk > len)
			chunk = len;
		if (gva_to_gpa(vp, gva, &gpa) || gpa_read(vp->partition, gpa, out, chunk))
			return -1;
		gva += chunk;
		out += chunk;
		len -= chunk;
	}
	return 0;
}
