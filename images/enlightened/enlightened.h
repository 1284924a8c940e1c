/*
 * The enlightened guest: a child partition image with integration
 * services. Besides COM1 and the test-exit port (../common) it talks to
 * the hypervisor the TLFS way: the hypervisor CPUID leaves, the guest OS
 * id and hypercall page, the SynIC (message page, event-flag page, SINT2
 * for VMBus), and hypercalls through the page. This header is the
 * platform the portable VMBus client (vmbus/client.c, storvsc.c, ic.c) is
 * glued onto: pages for rings and buffers, post/signal, wait for a
 * message or an event, time, and exit counts.
 *
 * VP 0 does everything, with no local APIC: the SINT's vector arrives as
 * an injected interrupt that needs no EOI (the SINT is still set
 * auto-EOI, as the TLFS asks of a guest without an APIC to acknowledge).
 * With "vps=N" (smp.c) VP 0 also starts VPs 1..N-1, which only do port
 * writes, count and read their VP index: no hypercall, no SynIC.
 */
#ifndef ENLIGHTENED_H
#define ENLIGHTENED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <isovisor/hvtlfs.h>
#include "../common/guest.h"

/* ---- boot (main.c) ------------------------------------------------------ */
/* "mib=N": how much data the storage tests move, default 16. */
extern uint64_t enlightened_mib;

/* ---- pages (pages.c) ---------------------------------------------------- */
/* The free RAM above the image: usable RAM minus the first MiB, the
 * image, the boot information and modules, below 4 GiB (what mm.c maps).
 * Call once, after mm_init(). */
void pages_init(void);
/* `bytes` rounded up to whole pages, physically contiguous, page-aligned
 * and zeroed; NULL when no run that long is free. Identity-mapped: the
 * address is also the GPA (virt_to_phys says so for the VMBus code). */
void *page_alloc(size_t bytes);
/* Give back what page_alloc(bytes) returned. */
void page_free(void *p, size_t bytes);
uint64_t pages_free_bytes(void);

static inline uint64_t virt_to_phys(const void *p)
{
	return (uint64_t)p;
}

/* ---- the hypervisor (hv.c) ---------------------------------------------- */
struct hv_info {
	bool present;                   /* "Microsoft Hv", interface "Hv#1" */
	uint32_t max_leaf;
	char vendor[13];
	uint32_t interface;
	uint32_t features_eax;          /* privilege mask, low half */
	uint32_t features_ebx;          /* privilege mask, high half */
	uint32_t build, version;        /* leaf 0x40000002 EAX, EBX */
};
extern struct hv_info hv;

/* The hypervisor CPUID leaves into `hv`; true when a TLFS hypervisor is
 * there (CPUID.1:ECX[31], the vendor leaf's range, interface "Hv#1"). */
bool hv_detect(void);
/* Features this guest needs: hypercall MSR, SynIC, time reference count. */
#define HV_ENLIGHTENED_NEEDS (HV_MSR_HYPERCALL_AVAILABLE | \
			      HV_MSR_SYNIC_AVAILABLE | \
			      HV_MSR_TIME_REF_COUNT_AVAILABLE)

/* Guest OS id (open source, "isovisor" OS type), then a hypercall page
 * from page_alloc() enabled in HV_X64_MSR_HYPERCALL. 0, or -1 with *why
 * when the MSR does not read back enabled or the page stays empty. */
int hv_hypercall_init(const char **why);
/* One hypercall through the page: `control` is the TLFS input value (code,
 * fast bit, rep count), `in`/`out` the input and output GPAs or, for fast
 * calls, the two register parameters. Returns RAX: the status in bits
 * 15:0, reps completed in 43:32. Counted in hv_self_counts. Before
 * hv_hypercall_init() succeeded: HV_STATUS_INVALID_PARTITION_STATE, and
 * no call is made. */
uint64_t hv_hypercall(uint64_t control, uint64_t in, uint64_t out);
/* A fast call with no parameters: the status. */
uint16_t hv_hypercall_fast0(uint16_t code);
/* HvCallPostMessage from a page of our own: `len` <= 240 bytes of `msg`
 * with `type` (bit 31 clear: hypervisor types are refused) to the
 * connection. HV_STATUS_INVALID_PARAMETER for a bad length here. */
uint16_t hv_post_message(uint32_t connection_id, uint32_t type,
			 const void *msg, size_t len);
/* HvCallSignalEvent, fast: flag number 0 of the connection, or `flag`
 * (below the port's flag count). */
uint16_t hv_signal_event(uint32_t connection_id);
uint16_t hv_signal_event_flag(uint32_t connection_id, uint16_t flag);

/* Interrupts on, then halt until the next one (STI's shadow: nothing is
 * taken between the two). Call with interrupts off, right after finding
 * nothing to do. Counted in hv_self_counts. */
void hv_idle(void);

/* HvCallStartVirtualProcessor for VP `vp_index` of this partition (VTL 0)
 * with `ctx`: the status. VP 0 only (the parameter pages are its own). */
uint16_t hv_start_vp(uint32_t vp_index, const struct hv_initial_vp_context *ctx);

/* The reference counter (HV_X64_MSR_TIME_REF_COUNT), 100 ns units. */
uint64_t hv_time_ref_100ns(void);
/* Wait `us` microseconds without HLT: a child has no timer, so a HLT
 * ends only with an interrupt, and what we wait for may bring none (a
 * port's credit coming back, a full message slot freeing). */
void hv_spin_us(uint64_t us);

/* ---- exits (hv.c) ------------------------------------------------------- */
/* What the guest itself did that costs an exit: the wrappers count. */
struct hv_self_counts {
	uint64_t hypercalls;
	uint64_t hlts;
	uint64_t msr_accesses;          /* synthetic MSRs, through hv_rdmsr/wrmsr */
};
void hv_self_counts(struct hv_self_counts *out);
uint64_t hv_rdmsr(uint32_t msr);
void hv_wrmsr(uint32_t msr, uint64_t v);
/* HVCALL_ISOVISOR_GET_EXIT_COUNTERS for VP `vp_index` of this partition:
 * the hypervisor's own count of this VP's exits by reason (the call
 * itself is already counted). isovisor lets a child read its own VPs.
 * The status; *out valid on HV_STATUS_SUCCESS. */
uint16_t hv_exit_counters(uint32_t vp_index,
			  struct hv_isovisor_exit_counters *out);
/* The sum over all reasons, and the count of the reason named `name`
 * ("hypercall", "hlt", "io", ...; 0 when no such reason). */
uint64_t hv_exit_total(const struct hv_isovisor_exit_counters *c);
uint64_t hv_exit_count(const struct hv_isovisor_exit_counters *c,
		       const char *name);

/* ---- SynIC (synic.c) ---------------------------------------------------- */
/* The vector SINT2 (VMBUS_MESSAGE_SINT) raises. */
#define SYNIC_VECTOR 0x40
/* Waits: `timeout_ms` SYNIC_WAIT_FOREVER to wait without a deadline. */
#define SYNIC_WAIT_FOREVER UINT64_MAX
#define SYNIC_E_TIMEOUT   (-1)
#define SYNIC_E_DISABLED  (-2)
#define SYNIC_E_TRUNCATED (-3)

/* Message page and event-flag page (page_alloc), SINT2 = SYNIC_VECTOR with
 * auto-EOI, SCONTROL enabled; then interrupts on. 0, or -1 with *why when
 * an MSR does not read back what was written. */
int synic_init(const char **why);
/* The next message on SINT2: its payload copied into `buf` (at most *len
 * bytes; *len becomes the bytes copied), the slot freed and EOM written
 * when the hypervisor marked another pending. Halts (interrupts on) until
 * one is there or `timeout_ms` passed: 0, SYNIC_E_TIMEOUT (0 ms: just
 * look), SYNIC_E_TRUNCATED (payload longer than *len: the rest is lost),
 * SYNIC_E_DISABLED. The deadline is checked each time the VP wakes: a
 * child has no timer under isovisor, so only an interrupt ends a HLT. */
int synic_wait_message(void *buf, size_t *len, uint64_t timeout_ms);
/* Same, with the message type (e.g. VMBus's 1) in *type. */
int synic_wait_message_typed(uint32_t *type, void *buf, size_t *len,
			     uint64_t timeout_ms);
/* Test and clear event flag `flag` (< 2048) of `sint` in the SIEFP page. */
bool synic_event_test_and_clear(unsigned sint, unsigned flag);
/* SINT interrupts seen so far: take it before testing flags, pass it to
 * synic_wait_event(), and no interrupt in between is missed. */
uint64_t synic_irq_seq(void);
/* Halt until a SINT interrupt arrives after `seen` (a message or an
 * event flag; the caller tests which) or `timeout_ms` passes: true when
 * one did. */
bool synic_wait_event(uint64_t seen, uint64_t timeout_ms);
/* Halt until an interrupt, unless work(ctx) (called with interrupts
 * off) says there is something to do; a synthetic timer (stimer 0 on
 * SINT3) ends the halt after at most bound_ms when nothing else does.
 * Without the timer's MSRs it only pauses. */
void synic_idle(bool (*work)(void *ctx), void *ctx, uint64_t bound_ms);
/* trap.c, on SYNIC_VECTOR: count it (synic_irq_seq). */
void synic_interrupt(void);
/* Interrupts on vectors nobody expects (a bug, or a hostile host). */
extern volatile uint64_t irq_unexpected;

/* ---- test mode (tests.c, vmbus_tests.c, net.c) ------------------------- */
void enlightened_tests(void);
/* The VMBus checks (offer, open, storvsc I/O, IC framing): the
 * integrator's, after the platform checks passed. */
void enlightened_vmbus_tests(void);
/* The heartbeat channel is open: the host interrupts us once a second,
 * so a wait that halts wakes to look again. */
bool enlightened_vmbus_heartbeat_open(void);
/* "net": the synthetic NIC through netvsc and the shared network test
 * (net.c), instead of the VMBus checks. */
void enlightened_net_tests(void);
/* After the TAP plan: wait for the host's shutdown IC request, if any. */
void enlightened_vmbus_wait_shutdown(void);

/* ---- more VPs (smp.c) -------------------------------------------------- */
/* "vps=N" (default 1: nothing, no TAP line): VP 0 starts VPs 1..N-1 with
 * HvCallStartVirtualProcessor, each runs SMP_PORT_WRITES port writes (each
 * an intercept the host completes) and reads its VP index; one TAP line
 * per VP, and one for the start call's refusals (N lines). `skip`: why
 * every line is a SKIP (no hypercall page), or NULL. */
void enlightened_smp_tests(const char *skip);

/* ---- the storm (storm.c) ------------------------------------------------ */
struct vmbus_client;
struct vmbus_ring;
/* What the storm needs of the VMBus tests' state: the bus, and the open
 * storage channel it writes raw packets on (storvsc idle). */
struct storm_env {
	struct vmbus_client *vc;
	bool st_open;
	struct vmbus_ring *st_out, *st_in;
	uint32_t st_relid, st_conn, st_out_bytes;
	uint32_t hb_relid, sd_relid;
	uint64_t capacity;              /* blocks */
};
/* "storm" on the command line: ops=N malformed operations, seed=S; TAP. */
void storm_run(const struct storm_env *env);
/* trap.c: a fault of one of the storm's instructions, counted; false
 * when it is not one. */
struct cpu_regs;
bool storm_trap(struct cpu_regs *r);
/* vmbus_tests.c: keep the ICs answered (heartbeats) while busy. */
void enlightened_vmbus_service(void);

#endif
