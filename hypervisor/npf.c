/*
 * Nested page faults. For the root they come from three places: the
 * local APIC page (mapped read-only so that ICR writes can be filtered),
 * the hypervisor's own memory (not mapped: the root sees what a PC shows
 * where no device answers, reads of all ones and writes that go nowhere),
 * and addresses above everything mapped (the same). Each such access is
 * decoded by our own decoder, completed, counted and logged (rate-limited).
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "apicfilter.h"
#include "gmem.h"
#include "virt.h"
#include "vpops.h"
#include "vapic.h"
#include "arch/x86/cpu.h"

#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define NPF_LOG_FIRST 8

static uint64_t root_apic_base = 0xfee00000;
static uint32_t icr_hi_shadow[HV_MAX_CPUS];

bool apic_icr_allowed(struct vp *vp, uint32_t lo, uint32_t dest)
{
	unsigned mode = (lo >> 8) & 7;

	if (mode != 5 && mode != 6)
		return true;
	hv_log("%s vp %u: %s IPI to APIC %u dropped (VPs are started "
	       "with HvCallStartVirtualProcessor)", vp->partition->name,
	       vp->index, mode == 5 ? "INIT" : "STARTUP", dest);
	return false;
}

/* The value a store instruction writes. */
static uint64_t store_value(struct vp *vp, const struct x86_insn *i)
{
	if (i->kind == X86_INSN_MOV_STORE_IMM)
		return i->imm;
	if (i->kind == X86_INSN_STOS || i->kind == X86_INSN_MOV_STORE_MOFFS)
		return vp_gpr_read(vp, GPR_RAX, i->opsize, false);
	return vp_gpr_read(vp, i->reg, i->opsize, i->reg_high_byte);
}

static bool is_store(const struct x86_insn *i)
{
	return i->kind == X86_INSN_MOV_STORE || i->kind == X86_INSN_MOV_STORE_IMM ||
	       i->kind == X86_INSN_MOV_STORE_MOFFS || i->kind == X86_INSN_STOS;
}

/* Complete a load with `value` as the memory operand. */
static void complete_load(struct vp *vp, const struct x86_insn *i, uint64_t value)
{
	switch (i->kind) {
	case X86_INSN_MOVZX:
		vp_gpr_write(vp, i->reg, i->dest_size, false,
			     value & ((1ull << (i->opsize * 8)) - 1));
		break;
	case X86_INSN_MOVSX: {
		unsigned bits = i->opsize * 8;
		uint64_t m = 1ull << (bits - 1);
		uint64_t v = value & ((1ull << bits) - 1);

		vp_gpr_write(vp, i->reg, i->dest_size, false, (v ^ m) - m);
		break;
	}
	case X86_INSN_MOV_LOAD_MOFFS:
	case X86_INSN_LODS:
		vp_gpr_write(vp, GPR_RAX, i->opsize, false, value);
		break;
	default:
		vp_gpr_write(vp, i->reg, i->opsize, i->reg_high_byte, value);
		break;
	}
}

/* STOS/LODS leave RDI/RSI past the element, and REP consumes RCX. */
static void string_step(struct vp *vp, const struct x86_insn *i, uint64_t count)
{
	struct vp_regs_view r;
	unsigned idx = i->kind == X86_INSN_LODS ? GPR_RSI : GPR_RDI;
	int64_t delta;

	virt->vp_read_regs(vp, &r);
	delta = (int64_t)(count * i->opsize) * ((r.rflags & (1u << 10)) ? -1 : 1);
	vp_gpr_write(vp, idx, i->addrsize, false, vp->gpr[idx] + (uint64_t)delta);
	if (i->rep)
		vp_gpr_write(vp, GPR_RCX, i->addrsize, false, 0);
}

static bool supported(const struct x86_insn *i)
{
	switch (i->kind) {
	case X86_INSN_MOV_STORE: case X86_INSN_MOV_STORE_IMM:
	case X86_INSN_MOV_LOAD: case X86_INSN_MOV_LOAD_MOFFS:
	case X86_INSN_MOV_STORE_MOFFS: case X86_INSN_MOVZX: case X86_INSN_MOVSX:
	case X86_INSN_STOS: case X86_INSN_LODS:
		return true;
	default:
		return false;
	}
}

static enum exit_action emulate(struct vp *vp, struct vp_exit *e, bool apic)
{
	struct partition *p = vp->partition;
	struct x86_insn i;
	int err = vp_decode_current(vp, &i);

	if (err || !supported(&i)) {
		partition_stop(p, vp, "unsupported access to GPA %#lx (%s)",
			       e->npf.gpa, err ? vp_decode_strerror(err) :
			       "not a MOV/STOS/LODS");
		return EXIT_ACTION_STOP;
	}
	if (apic && is_store(&i) && i.kind != X86_INSN_STOS) {
		unsigned off = e->npf.gpa & 0xfff;
		uint32_t v = (uint32_t)store_value(vp, &i);
		volatile uint32_t *reg = phys_to_virt(root_apic_base + (off & ~3u));

		if (off == APIC_ICR_HI) {
			icr_hi_shadow[vp->cpu] = v;
		} else if (off == APIC_ICR_LO) {
			if (apic_icr_allowed(vp, v, icr_hi_shadow[vp->cpu] >> 24)) {
				reg[(APIC_ICR_HI - APIC_ICR_LO) / 4] = icr_hi_shadow[vp->cpu];
				*reg = v;
			}
		} else {
			*reg = v;
		}
		return EXIT_ACTION_ADVANCE;
	}
	/* Memory nobody answers for. */
	vp->npf_logged++;
	if (vp->npf_logged <= NPF_LOG_FIRST || !(vp->npf_logged & 1023))
		hv_log("%s vp %u: %s of %u byte(s) at GPA %#lx, which it does "
		       "not own: %s (%lu so far)", p->name, vp->index,
		       is_store(&i) ? "write" : "read", i.opsize, e->npf.gpa,
		       is_store(&i) ? "dropped" : "reads all ones",
		       vp->npf_logged);
	if (i.kind == X86_INSN_STOS || i.kind == X86_INSN_LODS) {
		uint64_t count = i.rep ? vp_gpr_read(vp, GPR_RCX, i.addrsize, false) : 1;

		if (i.kind == X86_INSN_LODS && count)
			complete_load(vp, &i, ~0ull);
		string_step(vp, &i, count);
	} else if (!is_store(&i)) {
		complete_load(vp, &i, ~0ull);
	}
	return EXIT_ACTION_ADVANCE;
}

/* A child's access to a GPA with no memory behind it is MMIO for the
 * root's device models: a TLFS unmapped-GPA message with the bytes of the
 * instruction, which the root decodes and completes. */
static enum exit_action npf_to_root(struct vp *vp, struct vp_exit *e)
{
	struct hv_x64_memory_intercept_message m;
	struct vp_regs_view r;
	unsigned n = 0;
	uint64_t lin;

	memset(&m, 0, sizeof(m));
	virt->vp_read_regs(vp, &r);
	lin = vp_code_mode(vp) == X86_MODE_64 ? r.rip : r.cs_base + (uint32_t)r.rip;
	while (n < sizeof(m.instruction_bytes) &&
	       gva_read(vp, lin + n, &m.instruction_bytes[n], 1) == 0)
		n++;
	intercept_header(vp, &m.header, e->npf.fetch ? 2 : e->npf.write ? 1 : 0, 0);
	m.instruction_byte_count = (uint8_t)n;
	m.guest_physical_address = e->npf.gpa;
	intercept_to_root(vp, HVMSG_UNMAPPED_GPA, &m, sizeof(m));
	return EXIT_ACTION_RESUME;
}

/* A child's access to its own xAPIC page: 32-bit loads and stores of
 * its registers (what the SDM allows); any other width or kind, or a
 * misaligned one, is logged: a store is dropped, a load reads 0. */
static enum exit_action child_apic(struct vp *vp, struct vp_exit *e)
{
	unsigned off = e->npf.gpa & 0xfff;
	struct x86_insn i;
	int err = vp_decode_current(vp, &i);

	vp->apic_mmio++;
	if (err || !supported(&i) || i.kind == X86_INSN_STOS ||
	    i.kind == X86_INSN_LODS) {
		partition_stop(vp->partition, vp, "unsupported access to its APIC "
			       "page at %#lx (%s)", e->npf.gpa, err ?
			       vp_decode_strerror(err) : "not a MOV");
		return EXIT_ACTION_STOP;
	}
	if (i.opsize != 4 || (off & 0xf)) {
		if (vp->npf_logged++ < NPF_LOG_FIRST)
			hv_log("%s vp %u: %u-byte APIC access at offset %#x: %s",
			       vp->partition->name, vp->index, i.opsize, off,
			       is_store(&i) ? "dropped" : "reads 0");
		if (!is_store(&i))
			complete_load(vp, &i, 0);
		return EXIT_ACTION_ADVANCE;
	}
	if (is_store(&i))
		vapic_mmio_write(vp, off, (uint32_t)store_value(vp, &i));
	else
		complete_load(vp, &i, vapic_mmio_read(vp, off));
	return EXIT_ACTION_ADVANCE;
}

enum exit_action exit_npf(struct vp *vp, struct vp_exit *e)
{
	if (!vp->partition->is_root) {
		if (!e->npf.fetch && vapic_mmio_page(vp, e->npf.gpa))
			return child_apic(vp, e);
		return npf_to_root(vp, e);
	}

	bool apic = vp->partition->is_root &&
		    (e->npf.gpa & ~0xfffull) == root_apic_base;

	if (e->npf.fetch) {
		partition_stop(vp->partition, vp,
			       "instruction fetch from GPA %#lx, which it does not own",
			       e->npf.gpa);
		return EXIT_ACTION_STOP;
	}
	return emulate(vp, e, apic);
}
