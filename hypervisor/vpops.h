/*
 * The core's exit handlers and VP life cycle, shared between exit.c (the
 * dispatcher), the handler files and vp.c (the run loop).
 */
#ifndef HV_VPOPS_H
#define HV_VPOPS_H

#include "vp.h"
#include "exit.h"
#include "x86_decode.h"

enum exit_action exit_cpuid(struct vp *vp, struct vp_exit *e);
enum exit_action exit_msr_read(struct vp *vp, struct vp_exit *e);
enum exit_action exit_msr_write(struct vp *vp, struct vp_exit *e);
enum exit_action exit_io(struct vp *vp, struct vp_exit *e);
enum exit_action exit_hlt(struct vp *vp, struct vp_exit *e);
enum exit_action exit_hypercall(struct vp *vp, struct vp_exit *e);
enum exit_action exit_npf(struct vp *vp, struct vp_exit *e);
enum exit_action exit_vintr(struct vp *vp, struct vp_exit *e);

void exit_handle(struct vp *vp, struct vp_exit *e);
enum x86_cpu_mode vp_code_mode(struct vp *vp);
/* Fetch and decode the instruction at RIP: 0, VP_CODE_UNREADABLE, or a
 * negative x86_decode error. */
#define VP_CODE_UNREADABLE (-100)
int vp_decode_current(struct vp *vp, struct x86_insn *insn);
const char *vp_decode_strerror(int err);

/* Stop a partition (for the root: a panic) with a logged reason. */
void partition_stop(struct partition *p, struct vp *vp, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Register access by x86 register number, with operand size semantics:
 * a 32-bit write zero-extends, 8- and 16-bit writes merge. */
uint64_t vp_gpr_read(struct vp *vp, unsigned reg, unsigned size, bool high_byte);
void vp_gpr_write(struct vp *vp, unsigned reg, unsigned size, bool high_byte,
		  uint64_t value);

/* The root partition and the end of the run. */
/* False when the boot has no root module. */
bool root_create(void);
void vp_loop(struct vp *vp) __attribute__((noreturn));
void cpu_idle_until_start(void) __attribute__((noreturn));
void run_finish(bool root_pass, const char *why) __attribute__((noreturn));
enum exit_action hypercall_msr_write(struct vp *vp, uint64_t msr_value);
void irq_reflect(uint8_t vector);
/* Make `vector` pending for `vp` (a virtual interrupt) and wake its CPU. */
void irq_post(struct vp *vp, uint8_t vector);
/* Run this CPU's runnable child VPs while its root VP idles; returns when
 * the root has something to do. */
void children_run_while_root_idles(struct vp *root_vp);
bool vp_has_pending_irq(const struct vp *vp);
void vp_deliver_pending(struct vp *vp);
struct vp *current_vp_on(unsigned cpu);
void set_current_vp(unsigned cpu, struct vp *vp);
bool any_child_runnable_here(void);
/* Child partitions (partition.c), for both designs. */
struct partition *partition_new(void);
struct vp *partition_new_vp(struct partition *p);
/* VPs a child may have: the host's CPUs (at most 64). */
unsigned child_max_vps(void);
void grub_initial_context(struct hv_initial_vp_context *c, uint64_t entry);
uint16_t partition_map_page(struct partition *child, uint64_t gpa_page,
			    uint64_t spa, unsigned rights);
uint16_t partition_destroy(struct partition *p);
struct partition *child_by_id(uint64_t id);
bool partition_name_valid(const char *s, size_t cap);
bool cpuid_intercepted(const struct partition *p, uint32_t leaf);
bool msr_intercepted(const struct partition *p, uint32_t msr, bool write);
/* The length of the instruction at RIP after an exit (0 if unknown). */
uint8_t exit_insn_length(struct vp *vp, const struct vp_exit *e);
void partition_set_name(struct partition *p, const char *name);
/* TLB shootdown (tlb.c): every VP of `p` drops its cached translations
 * before this returns, on every CPU. */
void tlb_shootdown(struct partition *p);
/* One log line: shootdowns and kicks so far. */
void tlb_report(void);
/* In the NMI handler: true when the NMI was a shootdown's kick. */
bool tlb_nmi(void);
/* Scheduling (sched.c). The next runnable child VP bound to `cpu`, round
 * robin, or NULL. */
struct vp *pick_child(unsigned cpu);
/* Whether `vp` (a child of this CPU's ring) may run now. */
bool child_can_run(const struct vp *vp);
/* Enter `vp` once, with its pending interrupts, until its next exit. */
void vp_run_once(struct vp *vp, struct vp_exit *e);
/* The CPU a new child VP is bound to, and its run ring. */
unsigned sched_pick_cpu(void);
void sched_add(struct vp *vp);
void sched_remove(struct vp *vp);
struct hv_register_assoc;
uint16_t vp_set_registers(struct vp *vp, const struct hv_register_assoc *regs,
			  unsigned from, unsigned to, unsigned *done);
/* One line of exit counters per VP of the partition. */
void print_exit_counters(struct partition *p);
void hypercall_report(void);       /* hypercall.c: the run's call profile */
struct hv_x64_intercept_message_header;
void intercept_header(struct vp *vp, struct hv_x64_intercept_message_header *h,
		      uint8_t access, uint8_t insn_len);
void intercept_to_root(struct vp *vp, uint32_t type, const void *payload,
		       uint8_t size);
/* Wake the CPU a VP lives on (start requests, pending work); for a
 * root-scheduled VP, tell the root. */
void vp_kick(struct vp *vp);
struct vp *child_vp_by_id(uint64_t id, uint32_t index, uint16_t *status);
/* The root scheduler (dispatch.c). */
void dispatch_intercept(struct vp *vp, const struct hv_message *m);
void dispatch_signal(struct vp *vp);
void dispatch_regs_apply(struct vp *vp);
void dispatch_vp_gone(struct vp *vp);
struct hv_isovisor_selftest;
bool selftest_get(unsigned index, struct hv_isovisor_selftest *out);
void io_register(struct partition *p, uint16_t base, uint16_t len,
		 int (*handler)(struct vp *, uint16_t, unsigned, bool, uint32_t *));

#endif
