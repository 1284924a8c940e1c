/*
 * Port I/O intercepts: each partition has a short table of port ranges
 * with a handler; the I/O permission map sends only those ports here.
 * String forms are completed as a whole (the count in RCX), one element
 * per handler call, reading or writing the guest's memory through gmem.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "gmem.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

void io_register(struct partition *p, uint16_t base, uint16_t len,
		 int (*handler)(struct vp *, uint16_t, unsigned, bool, uint32_t *))
{
	if (p->io_count == PARTITION_IO_RANGES)
		panic("too many I/O ranges for partition %s", p->name);
	p->io[p->io_count++] = (struct io_range){ base, len, handler };
	for (unsigned i = 0; i < len; i++)
		virt->io_intercept(p, (uint16_t)(base + i), true);
}

static const struct io_range *io_find(struct partition *p, uint16_t port)
{
	for (unsigned i = 0; i < p->io_count; i++)
		if (port >= p->io[i].base && port - p->io[i].base < p->io[i].len)
			return &p->io[i];
	return NULL;
}

static enum exit_action io_string(struct vp *vp, struct vp_exit *e,
				  const struct io_range *r)
{
	struct vp_regs_view regs;
	struct x86_insn insn;
	unsigned idx = e->io.in ? GPR_RDI : GPR_RSI;
	uint64_t count, n = 0;
	int step;

	if (vp_decode_current(vp, &insn) ||
	    (insn.kind != X86_INSN_INS && insn.kind != X86_INSN_OUTS)) {
		partition_stop(vp->partition, vp, "undecodable string I/O");
		return EXIT_ACTION_STOP;
	}
	virt->vp_read_regs(vp, &regs);
	step = (regs.rflags & (1u << 10)) ? -(int)e->io.size : (int)e->io.size;
	count = e->io.rep ? vp_gpr_read(vp, GPR_RCX, insn.addrsize, false) : 1;
	for (; n < count; n++) {
		uint64_t addr = vp_gpr_read(vp, idx, insn.addrsize, false);
		uint32_t v = 0;

		/* Flat segments assumed: what every 32/64-bit OS uses. */
		if (!e->io.in) {
			if (gva_read(vp, addr, &v, e->io.size))
				break;
			r->handler(vp, e->io.port, e->io.size, false, &v);
		} else {
			partition_stop(vp->partition, vp, "INS from an emulated port");
			return EXIT_ACTION_STOP;
		}
		vp_gpr_write(vp, idx, insn.addrsize, false, addr + (uint64_t)(int64_t)step);
	}
	if (e->io.rep)
		vp_gpr_write(vp, GPR_RCX, insn.addrsize, false, count - n);
	if (n < count) {
		/* The guest's buffer is not readable: as on hardware, #PF
		 * territory; stop rather than guess. */
		partition_stop(vp->partition, vp, "OUTS from unreadable memory");
		return EXIT_ACTION_STOP;
	}
	return EXIT_ACTION_ADVANCE;
}

/* A child's port access goes to the root as a TLFS intercept message;
 * the child VP waits until the root completes it. */
static enum exit_action io_to_root(struct vp *vp, struct vp_exit *e)
{
	struct hv_x64_io_port_intercept_message m;
	struct vp_regs_view r;
	struct hv_register_assoc seg;

	memset(&m, 0, sizeof(m));
	virt->vp_read_regs(vp, &r);
	intercept_header(vp, &m.header, e->io.in ? 0 : 1,
			 (uint8_t)(e->next_rip - r.rip));
	m.port_number = e->io.port;
	m.access_info = (uint8_t)(e->io.size | (e->io.string ? 8 : 0) |
				  (e->io.rep ? 16 : 0));
	m.rax = vp->gpr[GPR_RAX];
	m.rcx = vp->gpr[GPR_RCX];
	m.rsi = vp->gpr[GPR_RSI];
	m.rdi = vp->gpr[GPR_RDI];
	virt->vp_get_reg(vp, HV_X64_REGISTER_ES + 3, &seg);
	m.ds_segment = seg.value.segment;
	virt->vp_get_reg(vp, HV_X64_REGISTER_ES, &seg);
	m.es_segment = seg.value.segment;
	intercept_to_root(vp, HVMSG_X64_IO_PORT_INTERCEPT, &m, sizeof(m));
	return EXIT_ACTION_RESUME;
}

enum exit_action exit_io(struct vp *vp, struct vp_exit *e)
{
	const struct io_range *r;
	uint32_t v;

	if (!vp->partition->is_root)
		return io_to_root(vp, e);
	r = io_find(vp->partition, e->io.port);

	if (!r) {
		/* Intercepted but unclaimed: no device answers. */
		if (e->io.in && !e->io.string)
			vp_gpr_write(vp, GPR_RAX, e->io.size, false, 0xffffffff);
		return EXIT_ACTION_ADVANCE;
	}
	if (e->io.string)
		return io_string(vp, e, r);
	v = (uint32_t)vp->gpr[GPR_RAX];
	if (e->io.size < 4)
		v &= (1u << (e->io.size * 8)) - 1;
	if (r->handler(vp, e->io.port, e->io.size, e->io.in, &v))
		return EXIT_ACTION_STOP;
	if (e->io.in)
		vp_gpr_write(vp, GPR_RAX, e->io.size, false, v);
	return EXIT_ACTION_ADVANCE;
}
