/*
 * Intercept messages: what a child VP's exit tells the control function.
 * The header (TLFS hv_x64_intercept_message_header) is built here from the
 * VP's state, the message is parked in the VP (vp->intercept) and handed
 * to the design: to the root's SynIC (microkernelized; it waits there,
 * never dropped, until the root's slot takes it) or to the control
 * function at once (monolithic). The VP stays in intercept suspend until
 * the access is completed with the suspend register cleared.
 */
#include <string.h>
#include <isovisor/hvtlfs.h>
#include "hv.h"
#include "design.h"
#include "virt.h"
#include "vpops.h"
#include "arch/x86/cpu.h"

void intercept_header(struct vp *vp, struct hv_x64_intercept_message_header *h,
		      uint8_t access, uint8_t insn_len)
{
	struct vp_regs_view r;
	struct hv_register_assoc cs;

	virt->vp_read_regs(vp, &r);
	virt->vp_get_reg(vp, HV_X64_REGISTER_ES + 1, &cs);
	h->vp_index = vp->index;
	h->instruction_length = insn_len & 0xf;
	h->intercept_access_type = access;
	h->execution_state = (uint16_t)(r.cpl | ((r.cr0 & CR0_PE) ? 4 : 0) |
					((r.efer & EFER_LMA) ? 16 : 0));
	h->cs_segment = cs.value.segment;
	h->rip = r.rip;
	h->rflags = r.rflags;
}

/* Post an intercept for the root VP of this CPU and park the child VP. */
void intercept_to_root(struct vp *vp, uint32_t type, const void *payload,
		       uint8_t size)
{
	struct hv_message m;

	memset(&m, 0, sizeof(m));
	m.header.message_type = type;
	m.header.payload_size = size;
	/* Which child it came from (the root has one message page per VP,
	 * not one per child VP as Hyper-V's intercept pages). */
	m.header.sender = vp->partition->id;
	memcpy(m.payload, payload, size);
	vp->intercept_suspend = true;
	design_intercept(vp, &m);
}
