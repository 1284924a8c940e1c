/*
 * The vendor operations table: everything that differs between AMD SVM
 * and Intel VMX sits behind these few hooks, picked once at boot. The
 * core never names a vendor.
 */
#ifndef HV_VIRT_H
#define HV_VIRT_H

#include <stdbool.h>
#include <stdint.h>
#include "vp.h"

#include "arch/x86/npt.h"                /* GPA_* rights */

enum inject_type {
	INJECT_EXTERNAL_INTERRUPT,
	INJECT_NMI,
	INJECT_EXCEPTION,
};

struct virt_ops {
	const char *name;
	/* What the hypercall page holds: the vendor's call instruction, RET. */
	uint8_t hypercall_page[4];
	/* Probe this CPU; NULL when usable, else why not (for the panic). */
	const char *(*cpu_probe)(void);
	/* Turn virtualization on for the calling CPU. */
	void (*cpu_enable)(void);
	/* One-line description of the features in use, for the log. */
	void (*describe)(char *buf, unsigned len);

	/* Set up a partition's vendor state (address space tag, nested
	 * tables, permission maps): 0, or -1 when out of tags or memory. */
	int (*partition_init)(struct partition *p);
	/* Free all of it, its address-space tag included (reused later with
	 * a flush). The partition's VPs are gone already and none runs. */
	void (*partition_destroy)(struct partition *p);
	/* Address-space tags handed out now (statistics). */
	unsigned (*asids_in_use)(void);
	/* Map [gpa, gpa+len) to [hpa, ...) with GPA_* rights, in the largest
	 * pages alignment allows. */
	int (*gpa_map)(struct partition *p, uint64_t gpa, uint64_t hpa,
		       uint64_t len, unsigned rights);
	/* Intercept (or stop intercepting) guest port I/O. */
	void (*io_intercept)(struct partition *p, uint16_t port, bool on);
	/* Intercept reads and/or writes of an MSR the hardware filters. */
	void (*msr_intercept)(struct partition *p, uint32_t msr, bool read,
			      bool write);

	/* Host address behind a partition's GPA, or -1 when unmapped. */
	uint64_t (*gpa_translate)(struct partition *p, uint64_t gpa);
	/* Every VP of the partition drops cached translations before it
	 * next runs (after its nested tables changed). */
	void (*partition_flush_tlb)(struct partition *p);

	int (*vp_init)(struct vp *vp);
	/* Free a VP's vendor state; the VP does not run. */
	void (*vp_destroy)(struct vp *vp);
	/* TLFS register access (architectural registers only; the suspend
	 * registers are the core's). 0, or -1 for a name it does not know. */
	int (*vp_get_reg)(struct vp *vp, uint32_t name, struct hv_register_assoc *r);
	int (*vp_set_reg)(struct vp *vp, const struct hv_register_assoc *r);
	void (*vp_set_context)(struct vp *vp,
			       const struct hv_initial_vp_context *ctx);
	/* Enter the guest until the next exit, which it normalizes. */
	void (*vp_run)(struct vp *vp, struct vp_exit *e);
	void (*vp_read_regs)(struct vp *vp, struct vp_regs_view *v);
	void (*vp_set_rip)(struct vp *vp, uint64_t rip);
	uint64_t (*vp_get_efer)(struct vp *vp);
	void (*vp_set_efer)(struct vp *vp, uint64_t efer);
	/* MSRs the vendor keeps in its per-VP control block (on SVM: FS/GS/
	 * KERNEL_GS base, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_*, PAT, and
	 * TSC through the TSC offset). -1 when `msr` is not one of them.
	 * The value was checked by the caller (childmsr.c). */
	int (*vp_get_msr)(struct vp *vp, uint32_t msr, uint64_t *v);
	int (*vp_set_msr)(struct vp *vp, uint32_t msr, uint64_t v);
	void (*vp_inject)(struct vp *vp, enum inject_type type, uint8_t vector,
			  bool has_error, uint32_t error);
	/* True when an external interrupt can be delivered now (IF set, no
	 * interrupt shadow, nothing already being injected). */
	bool (*vp_irq_window_open)(struct vp *vp);
	/* Exit as soon as the window opens; clear that request. */
	void (*vp_request_irq_window)(struct vp *vp);
	void (*vp_clear_irq_window)(struct vp *vp);
};

extern const struct virt_ops *virt;
extern const struct virt_ops svm_ops;

#endif
