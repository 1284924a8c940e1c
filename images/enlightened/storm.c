/*
 * The storm: the enlightened guest as a hostile partition ("storm" on its
 * command line, "ops=N" operations, default 100 000, from "seed=S").
 * Every operation is malformed or abusive, drawn from one deterministic
 * generator (splitmix64-seeded xorshift64*), so a seed replays a run:
 *
 *  - hypercall (40 %): random codes (known ones and any 16-bit value),
 *    random control words (fast bit, rep count and start, variable header,
 *    reserved bits), input/output GPAs in our scratch pages, unaligned,
 *    across a page, at the top of memory, past it, near 2^64;
 *  - msr (10 %): SIMP/SIEFP at bad GPAs and with reserved bits, SINTs with
 *    random vectors, SCONTROL/EOM/GUEST_OS_ID/HYPERCALL abuse (each of our
 *    own SynIC and hypercall MSRs put back at once), unknown synthetic and
 *    random MSR indices, the virtualization MSRs, EFER's reserved bits;
 *  - io (10 %): port I/O of every width to random ports (not COM1, whose
 *    state our console needs, nor the test-exit port), string I/O, loads
 *    and stores past our memory and across its end, random CPUID leaves;
 *  - vmbus (20 %): channel messages of random type and length (never
 *    INITIATE_CONTACT or UNLOAD, which a well-behaved guest may send, nor
 *    any naming our own channels), GPADLs naming pages that are not ours,
 *    posts too long or of hypervisor types, posts and signals to
 *    connections nobody made;
 *  - scsi (20 %): raw packets on the storage ring: random CDBs, lengths,
 *    directions, addressing, short vstor packets, GPA lists with pfns
 *    outside our memory, random vstor operations (each batch that sent one
 *    re-initializes the protocol after it).
 *
 * Checked while it runs (each mismatch counted and the first one printed):
 * a reserved input bit gets HV_STATUS_INVALID_HYPERCALL_INPUT and an
 * unknown code HV_STATUS_INVALID_HYPERCALL_CODE (TLFS 3.7, 3.8), a
 * root-only call from us never succeeds, the result's reserved bits are
 * zero and no more reps complete than asked for; GetPartitionId with an
 * unaligned output GPA gets HV_STATUS_INVALID_ALIGNMENT and one past our
 * memory HV_STATUS_INVALID_PARAMETER; a post or signal to an unconnected
 * id gets HV_STATUS_INVALID_CONNECTION_ID, a post of more than 240 bytes
 * or of a hypervisor message type HV_STATUS_INVALID_PARAMETER; unknown
 * synthetic MSRs and reserved HYPERCALL bits raise #GP; every storage
 * packet that asks for a completion gets exactly one, in order (storvsp
 * answers in ring order); no GPADL of foreign pages is ever created.
 * Faults are taken by storm_trap() (trap.c), through the exception table,
 * and counted by vector. At the end: the null hypercall still succeeds,
 * the VMBus host still lists its offers, the storage channel still
 * answers a TEST UNIT READY, and a corrupt write index gets it closed.
 */
#include <stdarg.h>
#include <string.h>
#include <isovisor/vmbus.h>
#include <isovisor/vstor.h>
#include "enlightened.h"
#include "client.h"
#include "ring.h"
#include "scsidisk.h"

enum { C_HYPERCALL, C_MSR, C_IO, C_VMBUS, C_SCSI, C_COUNT };
/* Percent of the operations. */
static const unsigned class_weight[C_COUNT] = { 40, 10, 10, 20, 20 };

#define SCRATCH_PAGES   16
#define SCSI_BATCH      32
#define SCSI_TRACK      512             /* completions we wait for at most */
#define WAIT_100NS      (5 * 10000000ull)       /* 5 s for a batch */
#define FOREIGN_GPADL   0x5700000u      /* our foreign GPADLs' ids */
#define COM1_BASE       0x3f8
#define TESTEXIT_PORT   0xf4

static struct {
	uint64_t rng;
	uint64_t ops[C_COUNT];
	uint64_t faults[32];
	uint64_t checks, mismatches;
	char first[160];
	/* scsi */
	uint64_t want[SCSI_TRACK];
	unsigned want_head, want_count;
	uint64_t next_id, sent, answered, misordered, stalls;
	bool batch_reinit, batch_signal;
	unsigned in_batch;
	/* vmbus */
	uint64_t msgs, gpadl_refused, gpadl_created, rescinds, post_busy;
	bool storage_rescinded;
} S;

static volatile bool storm_active;
static uint8_t *scratch;
static uint64_t mem_end;
static const struct storm_env *env;

/* ---- the generator ------------------------------------------------------ */

static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rnd(void)
{
	S.rng ^= S.rng >> 12;
	S.rng ^= S.rng << 25;
	S.rng ^= S.rng >> 27;
	return S.rng * 0x2545f4914f6cdd1dull;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned pct)
{
	return below(100) < pct;
}

static void fill_random(void *p, size_t n)
{
	uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd();
}

/* ---- checks ------------------------------------------------------------- */

static void __attribute__((format(printf, 2, 3)))
expect(bool ok, const char *fmt, ...)
{
	va_list ap;

	S.checks++;
	if (ok)
		return;
	if (!S.mismatches++) {
		va_start(ap, fmt);
		kvsnprintf(S.first, sizeof(S.first), fmt, ap);
		va_end(ap);
	}
}

/* trap.c: a CPU exception while the storm runs. */
bool storm_trap(struct cpu_regs *r)
{
	if (!storm_active || !extable_fixup(r))
		return false;
	S.faults[r->vector & 31]++;
	return true;
}

/* One instruction that may fault: err becomes -1 when it did. */
#define STORM_SAFE(insn)                                \
	"1: " insn "\n"                                 \
	"2:\n"                                          \
	".pushsection .fixup, \"ax\"\n"                 \
	"3: movl $-1, %[err]\n"                         \
	"   jmp 2b\n"                                   \
	".popsection\n"                                 \
	".pushsection .extable, \"a\"\n"                \
	".balign 8\n"                                   \
	".quad 1b, 3b\n"                                \
	".popsection\n"

static int safe_rdmsr(uint32_t msr, uint64_t *v)
{
	uint32_t lo = 0, hi = 0;
	int err = 0;

	__asm__ volatile(STORM_SAFE("rdmsr") : "+a"(lo), "+d"(hi), [err] "+r"(err)
			 : "c"(msr) : "memory");
	*v = (uint64_t)hi << 32 | lo;
	return err;
}

static int safe_wrmsr(uint32_t msr, uint64_t v)
{
	int err = 0;

	__asm__ volatile(STORM_SAFE("wrmsr") : [err] "+r"(err)
			 : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
	return err;
}

/* ---- GPAs ------------------------------------------------------------------ */

static uint64_t scratch_gpa(void)
{
	return virt_to_phys(scratch) + below(SCRATCH_PAGES) * PAGE_SIZE;
}

/* A parameter GPA: often good, often not. */
static uint64_t random_gpa(void)
{
	switch (below(10)) {
	case 0: case 1: case 2:
		return scratch_gpa() + below(PAGE_SIZE / 8) * 8;   /* ours */
	case 3:
		return scratch_gpa() + below(PAGE_SIZE);        /* unaligned */
	case 4:
		return scratch_gpa() + PAGE_SIZE - 8 * (1 + below(4)); /* crosses */
	case 5:
		return mem_end - 8 * (1 + below(2));            /* top of memory */
	case 6:
		return mem_end + below(64 * MiB) * 8;           /* past it */
	case 7:
		return ~0ull - below(PAGE_SIZE);                /* near 2^64 */
	case 8:
		return 1ull << (32 + below(20));
	default:
		return rnd();
	}
}

/* ---- hypercalls ------------------------------------------------------------ */

/* What isovisor implements (hypervisor/hypercall.c), and which of it a
 * child may not call. A new call there shows here as a mismatch. */
static const uint16_t known_codes[] = {
	0x0040, 0x0041, 0x0043, 0x0046, 0x004b, 0x004d, 0x004e, 0x0050,
	0x0051, 0x0052, 0x005c, 0x005d, 0x0094, 0x0095, 0x0096, 0x0099,
	0x009a, 0x00c2, 0x00e1, 0x8000, 0x8001, 0x8002, 0x8003, 0x8004,
	0x8005, 0x8006, 0x8007, 0x8008, 0x8009, 0x800a, 0x800b,
};
static const uint16_t child_codes[] = {
	0x0046, 0x005c, 0x005d, 0x0099, 0x009a, 0x8000, 0x8001, 0x8002,
};

static bool in_list(const uint16_t *l, unsigned n, uint16_t code)
{
	for (unsigned i = 0; i < n; i++)
		if (l[i] == code)
			return true;
	return false;
}

static void op_hypercall(void)
{
	uint16_t code = chance(60) ? known_codes[below(ARRAY_SIZE(known_codes))]
				   : (uint16_t)rnd();
	uint64_t control = code, in, out, r;
	unsigned reps = 0;
	uint16_t st;
	bool known = in_list(known_codes, ARRAY_SIZE(known_codes), code);

	if (chance(30))
		control |= HV_HYPERCALL_FAST_BIT;
	if (chance(25)) {
		reps = (unsigned)(chance(50) ? below(8) : below(4096));
		control |= (uint64_t)reps << HV_HYPERCALL_REP_COMP_SHIFT;
	}
	if (chance(10))
		control |= below(4096) << HV_HYPERCALL_REP_START_SHIFT;
	if (chance(5))
		control |= (below(0x3ff) + 1) << HV_HYPERCALL_VARHEAD_SHIFT;
	if (chance(10))
		control |= HV_HYPERCALL_RSVD_MASK & (1ull << (17 + below(47)));
	if (chance(2))
		control = rnd();
	code = (uint16_t)control;
	known = in_list(known_codes, ARRAY_SIZE(known_codes), code);
	reps = (unsigned)((control & HV_HYPERCALL_REP_COMP_MASK) >>
			  HV_HYPERCALL_REP_COMP_SHIFT);
	in = random_gpa();
	out = random_gpa();
	fill_random(scratch + below(SCRATCH_PAGES) * PAGE_SIZE, 64);
	r = hv_hypercall(control, in, out);
	st = (uint16_t)r;
	expect(!(r & 0xffff0000ull) && !(r >> 44) &&
	       ((r >> 32) & 0xfff) <= reps,
	       "hypercall %#lx: result %#lx has reserved bits or too many reps",
	       control, r);
	if (control & HV_HYPERCALL_RSVD_MASK)
		expect(st == HV_STATUS_INVALID_HYPERCALL_INPUT,
		       "hypercall %#lx (reserved bits): status %#x", control, st);
	else if (!known)
		expect(st == HV_STATUS_INVALID_HYPERCALL_CODE,
		       "hypercall %#lx (unknown code): status %#x", control, st);
	else if (!in_list(child_codes, ARRAY_SIZE(child_codes), code))
		expect(st != HV_STATUS_SUCCESS,
		       "root-only hypercall %#lx succeeded for a child", control);
}

/* GetPartitionId, well formed but for its output GPA: the TLFS's two
 * answers for a bad one, and the same id for a good one. */
static void op_partition_id(void)
{
	static uint64_t id;
	uint64_t out;
	uint16_t st;

	switch (below(3)) {
	case 0:
		out = scratch_gpa() + 8 * below(PAGE_SIZE / 8) + 1 + below(7);
		st = (uint16_t)hv_hypercall(HVCALL_GET_PARTITION_ID, 0, out);
		expect(st == HV_STATUS_INVALID_ALIGNMENT,
		       "GetPartitionId to gpa %#lx (unaligned): status %#x", out, st);
		break;
	case 1:
		out = mem_end + 8 * below(1u << 20);
		st = (uint16_t)hv_hypercall(HVCALL_GET_PARTITION_ID, 0, out);
		expect(st == HV_STATUS_INVALID_PARAMETER,
		       "GetPartitionId to gpa %#lx (past our memory): status %#x",
		       out, st);
		break;
	default: {
		uint64_t *p = (uint64_t *)(scratch + below(SCRATCH_PAGES) *
					   PAGE_SIZE + 8 * below(PAGE_SIZE / 8));

		st = (uint16_t)hv_hypercall(HVCALL_GET_PARTITION_ID, 0,
					    virt_to_phys(p));
		if (!id && st == HV_STATUS_SUCCESS)
			id = *p;
		expect(st == HV_STATUS_SUCCESS && *p == id,
		       "GetPartitionId to our page: status %#x, id %#lx", st, *p);
	}
	}
}

/* ---- MSRs ------------------------------------------------------------------ */

static uint64_t saved_simp, saved_siefp, saved_sint2, saved_scontrol;
static uint64_t saved_osid, saved_hypercall;

static void restore_synthetic(void)
{
	/* Order: identity and hypercall page first, the SynIC after. */
	safe_wrmsr(HV_X64_MSR_GUEST_OS_ID, saved_osid);
	safe_wrmsr(HV_X64_MSR_HYPERCALL, saved_hypercall);
	safe_wrmsr(HV_X64_MSR_SIMP, saved_simp);
	safe_wrmsr(HV_X64_MSR_SIEFP, saved_siefp);
	safe_wrmsr(HV_X64_MSR_SINT0 + VMBUS_MESSAGE_SINT, saved_sint2);
	safe_wrmsr(HV_X64_MSR_SCONTROL, saved_scontrol);
}

static uint64_t bad_page(void)
{
	switch (below(4)) {
	case 0:
		return mem_end + below(1u << 16) * PAGE_SIZE;
	case 1:
		return (mem_end - PAGE_SIZE) & ~0xfffull;       /* the top page? ours */
	case 2:
		return (rnd() & 0x000ffffffffff000ull);
	default:
		return rnd() & ~0xfffull;
	}
}

static void op_msr(void)
{
	uint64_t v;
	int err;

	switch (below(10)) {
	case 0: /* SIMP / SIEFP: a page not ours, maybe reserved bits */
	case 1: {
		uint32_t msr = below(2) ? HV_X64_MSR_SIMP : HV_X64_MSR_SIEFP;

		v = bad_page() | (chance(50) ? 1 : 0);
		if (chance(30))
			v |= (1 + below(0x7ff)) << 1;
		if (v & 1 && (v & ~0xfffull) == ((mem_end - PAGE_SIZE) & ~0xfffull))
			v &= ~1ull;     /* never enable one over RAM we may use */
		safe_wrmsr(msr, v);
		safe_rdmsr(msr, &v);
		restore_synthetic();
		break;
	}
	case 2: { /* a SINT: random vector (0-15 are invalid), flags */
		uint32_t sint = (uint32_t)below(16);

		v = rnd() & (chance(50) ? 0x300ffull : ~0ull);
		/* Ours carries the host's messages: a vector that is a CPU
		 * exception's would be taken as one until the restore. */
		if (sint == VMBUS_MESSAGE_SINT)
			v |= HV_SYNIC_SINT_MASKED;
		safe_wrmsr(HV_X64_MSR_SINT0 + sint, v);
		restore_synthetic();
		break;
	}
	case 3: /* SCONTROL, EOM, SVERSION (read-only) */
		safe_wrmsr(HV_X64_MSR_SCONTROL, rnd() & (chance(50) ? 1 : ~0ull));
		safe_wrmsr(HV_X64_MSR_EOM, rnd());
		safe_wrmsr(HV_X64_MSR_SVERSION, rnd());
		restore_synthetic();
		break;
	case 4: /* the hypercall MSR: reserved bits must #GP (never LOCKED) */
		v = (rnd() | (1ull << (2 + below(10)))) & ~2ull;
		err = safe_wrmsr(HV_X64_MSR_HYPERCALL, v);
		expect(err != 0, "HYPERCALL MSR %#lx (reserved bits): no #GP", v);
		if (chance(30)) {       /* enabled over a page not ours */
			safe_wrmsr(HV_X64_MSR_HYPERCALL, (mem_end + below(1u << 16) *
				   PAGE_SIZE) | HV_X64_MSR_HYPERCALL_ENABLE);
		}
		if (chance(20))
			safe_wrmsr(HV_X64_MSR_GUEST_OS_ID, chance(50) ? 0 : rnd());
		restore_synthetic();
		break;
	case 5: { /* unknown synthetic MSRs: #GP both ways */
		static const uint32_t holes[] = { 0x40000004, 0x40000010, 0x40000030,
			0x40000074, 0x40000085, 0x4000008f, 0x400000a0, 0x400000ff };
		uint32_t msr = holes[below(ARRAY_SIZE(holes))];

		expect(safe_rdmsr(msr, &v) != 0 && safe_wrmsr(msr, rnd()) != 0,
		       "unknown synthetic MSR %#x: no #GP", msr);
		break;
	}
	case 6: /* the virtualization MSRs, EFER's reserved bits */
		safe_rdmsr(0xc0010114, &v);             /* VM_CR */
		safe_wrmsr(0xc0010117, rnd());          /* VM_HSAVE_PA */
		safe_rdmsr(0xc0000080, &v);
		err = safe_wrmsr(0xc0000080, v | 1ull << (16 + below(48)));
		expect(err != 0, "EFER with a reserved bit: no #GP");
		/* The x2APIC ICR: a fixed IPI, vector and destination random.
		 * A child has no business with the machine's APICs. */
		v = (rnd() & 0xffffffff000000ffull) | 0x4000;
		expect(safe_wrmsr(0x830, v) != 0,
		       "x2APIC ICR %#lx from a child: no #GP", v);
		break;
	case 7: /* a random MSR index, read */
		safe_rdmsr((uint32_t)rnd(), &v);
		break;
	case 8: /* a random MSR index, written: anything but what keeps us
		 * alive, which a child cannot reach anyway */
	{
		uint32_t msr = (uint32_t)rnd();

		if (msr != 0xc0000080 && msr != 0x1b && (msr < 0x40000000 ||
		    msr > 0x400000ff))
			safe_wrmsr(msr, rnd());
		break;
	}
	default: /* synthetic MSRs read at random */
		safe_rdmsr(0x40000000 + (uint32_t)below(0x100), &v);
		break;
	}
}

/* ---- io: ports, memory past ours, CPUID ---------------------------------- */

static uint16_t random_port(void)
{
	for (;;) {
		uint16_t p = chance(50) ? (uint16_t)below(0x400) : (uint16_t)rnd();

		if ((p & ~7u) != COM1_BASE && (p & ~3u) != TESTEXIT_PORT)
			return p;
	}
}

static void op_port(void)
{
	uint16_t port = random_port();
	uint32_t v = (uint32_t)rnd();

	switch (below(7)) {
	case 0: __asm__ volatile("inb %w1, %b0" : "=a"(v) : "Nd"(port)); break;
	case 1: __asm__ volatile("inw %w1, %w0" : "=a"(v) : "Nd"(port)); break;
	case 2: __asm__ volatile("inl %w1, %0" : "=a"(v) : "Nd"(port)); break;
	case 3: __asm__ volatile("outb %b0, %w1" :: "a"(v), "Nd"(port)); break;
	case 4: __asm__ volatile("outw %w0, %w1" :: "a"(v), "Nd"(port)); break;
	case 5: __asm__ volatile("outl %0, %w1" :: "a"(v), "Nd"(port)); break;
	default: {
		/* String I/O, a few elements, into or out of a scratch page. */
		void *buf = scratch + below(SCRATCH_PAGES) * PAGE_SIZE;
		uint64_t n = 1 + below(8);

		if (chance(50))
			__asm__ volatile("rep insb" : "+D"(buf), "+c"(n)
					 : "d"(port) : "memory");
		else
			__asm__ volatile("rep outsb" : "+S"(buf), "+c"(n)
					 : "d"(port) : "memory");
	}
	}
}

/* A load or store of 1-8 bytes past our memory (all ones or nothing, as
 * unassigned addresses), across its end, or above 4 GiB (not mapped in
 * our own page tables: #PF, counted). */
static void op_beyond(void)
{
	uint64_t a, v = rnd();
	unsigned kind = (unsigned)below(8);
	int err = 0;

	switch (below(4)) {
	case 0:
		a = mem_end - 1 - below(7);                     /* across the end */
		break;
	case 1:
		a = (1ull << 32) + below(1ull << 30);           /* not mapped */
		break;
	default:
		a = mem_end + below((1ull << 32) - mem_end - 8);
		/* Not the I/O APIC's or our local APIC's page: devices
		 * answer there, not "unassigned". */
		if (a >= 0xfec00000ull && a < 0xfef00000ull)
			a -= 0x01000000ull;
		break;
	}
	if (a < mem_end && kind >= 4)
		kind -= 4;      /* across the end: loads only, our RAM is ours */
	switch (kind) {
	/* Byte and word loads zero-extended: the root stops a child whose
	 * MMIO load writes a partial register (drivers/partmgr.c). */
	case 0: __asm__ volatile(STORM_SAFE("movzbl (%[a]), %k[v]") : [v] "+r"(v), [err] "+r"(err) : [a] "r"(a) : "memory"); break;
	case 1: __asm__ volatile(STORM_SAFE("movzwl (%[a]), %k[v]") : [v] "+r"(v), [err] "+r"(err) : [a] "r"(a) : "memory"); break;
	case 2: __asm__ volatile(STORM_SAFE("movl (%[a]), %k[v]") : [v] "+r"(v), [err] "+r"(err) : [a] "r"(a) : "memory"); break;
	case 3: __asm__ volatile(STORM_SAFE("movq (%[a]), %[v]") : [v] "+r"(v), [err] "+r"(err) : [a] "r"(a) : "memory"); break;
	case 4: __asm__ volatile(STORM_SAFE("movb %b[v], (%[a])") : [err] "+r"(err) : [v] "r"(v), [a] "r"(a) : "memory"); break;
	case 5: __asm__ volatile(STORM_SAFE("movw %w[v], (%[a])") : [err] "+r"(err) : [v] "r"(v), [a] "r"(a) : "memory"); break;
	case 6: __asm__ volatile(STORM_SAFE("movl %k[v], (%[a])") : [err] "+r"(err) : [v] "r"(v), [a] "r"(a) : "memory"); break;
	default: __asm__ volatile(STORM_SAFE("movq %[v], (%[a])") : [err] "+r"(err) : [v] "r"(v), [a] "r"(a) : "memory"); break;
	}
	/* Unassigned memory reads as all ones (the root's answer). */
	if (!err && a >= mem_end && a < (1ull << 32) - 8 && kind == 3)
		expect(v == ~0ull, "load at %#lx past our memory: %#lx", a, v);
}

static void op_io(void)
{
	unsigned k = (unsigned)below(10);

	if (k < 5) {
		op_port();
	} else if (k < 8) {
		op_beyond();
	} else {
		uint32_t leaf = chance(50) ? 0x40000000 + (uint32_t)below(0x100)
					   : (uint32_t)rnd();
		struct cpuid_regs r = cpuid(leaf, (uint32_t)rnd());

		(void)r;
	}
}

/* ---- vmbus ------------------------------------------------------------------ */

static bool our_relid(uint32_t relid)
{
	return relid == env->st_relid || relid == env->hb_relid ||
	       relid == env->sd_relid;
}

/* Take every message waiting in our SINT 2 slot: answers to our junk,
 * offers, rescinds. Only what the storm checks is looked at. */
static void drain_messages(void)
{
	static uint8_t m[HV_MESSAGE_PAYLOAD_BYTES] __attribute__((aligned(8)));

	for (;;) {
		size_t len = sizeof(m);
		const struct vmbus_channel_message_header *h = (const void *)m;
		int r = synic_wait_message(m, &len, 0);

		if (r == SYNIC_E_TIMEOUT || r == SYNIC_E_DISABLED)
			return;
		S.msgs++;
		if (len < sizeof(*h))
			continue;
		if (h->msgtype == CHANNELMSG_GPADL_CREATED && len >= 20) {
			const struct vmbus_channel_gpadl_created *g = (const void *)m;

			if (g->gpadl - FOREIGN_GPADL < 0x100000u) {
				if (g->creation_status)
					S.gpadl_refused++;
				else
					S.gpadl_created++;
			}
		} else if (h->msgtype == CHANNELMSG_RESCIND_CHANNELOFFER) {
			const struct vmbus_channel_rescind_offer *o = (const void *)m;

			S.rescinds++;
			if (o->child_relid == env->st_relid)
				S.storage_rescinded = true;
		}
	}
}

static uint16_t post(uint32_t conn, uint32_t type, const void *msg, size_t len)
{
	uint16_t st = 0;

	for (unsigned i = 0; i < 2000; i++) {     /* 100 ms */
		st = hv_post_message(conn, type, msg, len);
		if (st != HV_STATUS_INSUFFICIENT_BUFFERS)
			break;
		drain_messages();
		hv_spin_us(50);
	}
	/* Still busy: the TLFS's "try later", not a wrong answer. */
	if (st == HV_STATUS_INSUFFICIENT_BUFFERS)
		S.post_busy++;
	return st;
}

static uint32_t unconnected_id(void)
{
	for (;;) {
		uint32_t id = (uint32_t)rnd() & (chance(50) ? 0xffffff : 0xffff);

		if (id != VMBUS_MESSAGE_CONNECTION_ID &&
		    id != VMBUS_MESSAGE_CONNECTION_ID_4 &&
		    (id < 0x10000 || id > 0x10000 + 128))
			return id;
	}
}

static void op_vmbus(void)
{
	static uint8_t msg[256] __attribute__((aligned(8)));
	uint32_t conn = chance(50) ? VMBUS_MESSAGE_CONNECTION_ID
				   : VMBUS_MESSAGE_CONNECTION_ID_4;
	struct vmbus_channel_message_header *h = (void *)msg;
	uint16_t st;
	size_t len;

	drain_messages();
	switch (below(20)) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6: case 7:
	case 8: case 9: { /* a channel message of random type and length */
		uint32_t t;

		do
			t = (uint32_t)(chance(90) ? below(CHANNELMSG_COUNT + 4) : rnd());
		while (t == CHANNELMSG_INITIATE_CONTACT || t == CHANNELMSG_UNLOAD);
		len = below(HV_MESSAGE_PAYLOAD_BYTES + 1);
		fill_random(msg, sizeof(msg));
		h->msgtype = t;
		/* Whatever names a relid names none of ours. */
		if (our_relid(((uint32_t *)msg)[2]))
			((uint32_t *)msg)[2] = 0x1000 + (uint32_t)below(1000);
		st = post(conn, 1, msg, len);
		expect(st == HV_STATUS_SUCCESS || st == HV_STATUS_INSUFFICIENT_BUFFERS,
		       "channel message type %u, %lu bytes: post status %#x", t,
		       (uint64_t)len, st);
		break;
	}
	case 10: case 11: case 12: { /* a GPADL naming pages not ours */
		struct vmbus_channel_gpadl_header *g = (void *)msg;
		struct vmbus_gpa_range *range = (void *)(g + 1);
		uint64_t *pfn = (uint64_t *)(range + 1);
		uint32_t n = 1 + (uint32_t)below(20);
		static uint32_t seq;

		memset(msg, 0, sizeof(msg));
		g->header.msgtype = CHANNELMSG_GPADL_HEADER;
		g->child_relid = chance(70) ? env->st_relid : (uint32_t)rnd();
		g->gpadl = FOREIGN_GPADL + (seq++ & 0xfffff);
		g->range_buflen = (uint16_t)(sizeof(*range) + 8 * n);
		g->rangecount = 1;
		range->byte_count = n * PAGE_SIZE;
		range->byte_offset = 0;
		for (uint32_t i = 0; i < n; i++)
			pfn[i] = chance(50) ? (mem_end >> 12) + below(1u << 20)
					    : rnd() >> 12;
		/* One page of ours among them changes nothing. */
		if (n > 1)
			pfn[0] = scratch_gpa() >> 12;
		st = post(conn, 1, msg, sizeof(*g) + sizeof(*range) + 8 * n);
		expect(st == HV_STATUS_SUCCESS || st == HV_STATUS_INSUFFICIENT_BUFFERS,
		       "GPADL_HEADER post status %#x", st);
		break;
	}
	case 13: case 14: /* too long, or a hypervisor message type */
		fill_random(msg, sizeof(msg));
		if (chance(50)) {
			struct hv_input_post_message *in = (void *)scratch;

			/* hv_post_message refuses this itself: build it here. */
			memset(in, 0, sizeof(*in));
			in->connection_id = conn;
			in->message_type = 1;
			in->payload_size = HV_MESSAGE_PAYLOAD_BYTES + 1 +
					   (uint32_t)below(1000);
			st = (uint16_t)hv_hypercall(HVCALL_POST_MESSAGE,
						    virt_to_phys(in), 0);
			expect(st == HV_STATUS_INVALID_PARAMETER,
			       "post of %u bytes: status %#x", in->payload_size, st);
		} else {
			uint32_t t = 0x80000000u | (uint32_t)rnd();

			st = post(conn, t, msg, below(HV_MESSAGE_PAYLOAD_BYTES));
			expect(st == HV_STATUS_INVALID_PARAMETER,
			       "post of message type %#x: status %#x", t, st);
		}
		break;
	case 15: case 16: { /* nobody's connection */
		uint32_t id = unconnected_id();

		st = chance(50) ? post(id, 1, msg, below(HV_MESSAGE_PAYLOAD_BYTES))
				: hv_signal_event_flag(id, (uint16_t)rnd());
		expect(st == HV_STATUS_INVALID_CONNECTION_ID,
		       "post/signal to unconnected id %#x: status %#x", id, st);
		break;
	}
	default: /* signals on our own channels, random flag numbers */
		hv_signal_event_flag(0x10000 + (chance(50) ? env->st_relid :
				     (uint32_t)below(128)), (uint16_t)below(4096));
		break;
	}
}

/* ---- scsi: raw packets on the storage ring ---------------------------------- */

struct raw_srb {
	struct vmbus_pkt_gpa_direct g;
	uint64_t pfn[10];
	struct vstor_packet vp;
} __attribute__((packed));

static const uint8_t opcodes[] = {
	SCSI_TEST_UNIT_READY, SCSI_INQUIRY, SCSI_READ_10, SCSI_WRITE_10,
	SCSI_READ_16, SCSI_WRITE_16, SCSI_READ_CAPACITY_10,
	SCSI_SERVICE_ACTION_IN_16, SCSI_SYNCHRONIZE_CACHE_10, 0x08, 0x0a,
	0x1a, 0x5a, 0xa0, 0xa8, 0xaa, 0x42, 0x93, 0x03, 0x12, 0x28,
};

static void track(uint64_t id)
{
	if (S.want_count == SCSI_TRACK)
		return;         /* cannot happen: a batch is far smaller */
	S.want[(S.want_head + S.want_count++) % SCSI_TRACK] = id;
}

/* Read every completion waiting: each must be the next we wait for. */
static void reap_scsi(void)
{
	static uint64_t buf[512];
	struct vmbus_ring *in = env->st_in;

	for (;;) {
		int n = vmbus_ring_peek(in, buf, sizeof(buf));
		struct vmbus_pkt_desc d;
		bool sig = false;

		if (n <= 0)
			return;
		memcpy(&d, buf, sizeof(d));
		if (d.type == VMBUS_PKT_COMP && S.want_count &&
		    d.trans_id == S.want[S.want_head]) {
			S.want_head = (S.want_head + 1) % SCSI_TRACK;
			S.want_count--;
			S.answered++;
		} else {
			S.misordered++;
			expect(false, "storage completion %#lx (type %u): not the "
			       "next one asked for (%#lx)", d.trans_id, d.type,
			       S.want_count ? S.want[S.want_head] : 0);
		}
		if (vmbus_ring_consume(in, (uint32_t)n, &sig))
			return;
		if (sig)
			hv_signal_event(env->st_conn);
	}
}

static int put_packet(const void *pkt, uint32_t len)
{
	struct vmbus_iov iov = { pkt, len };
	bool sig = false;
	int r = vmbus_ring_write(env->st_out, &iov, 1, &sig);

	S.batch_signal |= sig;
	return r;
}

static void control_packet(uint32_t op, uint16_t version)
{
	struct {
		struct vmbus_pkt_desc d;
		struct vstor_packet vp;
	} p;

	memset(&p, 0, sizeof(p));
	p.d = (struct vmbus_pkt_desc){ VMBUS_PKT_DATA_INBAND, 2, sizeof(p) / 8,
				       VMBUS_PKT_FLAG_COMPLETION_REQUESTED,
				       ++S.next_id };
	p.vp.operation = op;
	p.vp.version.major_minor = version;
	if (!put_packet(&p, sizeof(p)))
		track(p.d.trans_id);
}

/* Send what the batch holds and wait for every completion it asked for.
 * The guest signals only when the ring tells it to; a batch that gets no
 * answer for long is a lost wake-up (counted, then signalled anyway). */
static void flush_scsi(void)
{
	uint64_t deadline;

	if (!S.in_batch)
		return;
	if (S.batch_reinit) {
		control_packet(VSTOR_OPERATION_BEGIN_INITIALIZATION, 0);
		control_packet(VSTOR_OPERATION_QUERY_PROTOCOL_VERSION,
			       VMSTOR_PROTO_VERSION_WIN10);
		control_packet(VSTOR_OPERATION_END_INITIALIZATION, 0);
		S.batch_reinit = false;
	}
	if (S.batch_signal)
		hv_signal_event(env->st_conn);
	S.batch_signal = false;
	S.in_batch = 0;
	deadline = hv_time_ref_100ns() + WAIT_100NS;
	while (S.want_count && !S.storage_rescinded) {
		synic_event_test_and_clear(VMBUS_MESSAGE_SINT, env->st_relid);
		reap_scsi();
		if (!S.want_count)
			break;
		drain_messages();
		enlightened_vmbus_service();
		if (hv_time_ref_100ns() > deadline) {
			S.stalls++;
			expect(false, "storage: %u completions missing after 5 s",
			       S.want_count);
			S.want_count = 0;
			break;
		}
		if (!vmbus_ring_avail_read(env->st_in))
			hv_spin_us(100);
	}
}

static uint64_t random_pfn(void)
{
	switch (below(10)) {
	case 0: return (mem_end >> 12) + below(1u << 20);       /* past us */
	case 1: return (1ull << 52) + (scratch_gpa() >> 12);    /* wraps */
	case 2: return rnd();
	default: return scratch_gpa() >> 12;
	}
}

static void op_scsi(void)
{
	static struct raw_srb p;
	struct vmscsi_request *srb = &p.vp.vm_srb;
	uint32_t npfn = 0, head, plen = sizeof(p.vp), blocks;
	bool gpa = chance(70);
	uint64_t lba;

	memset(&p, 0, sizeof(p));
	if (gpa) {
		blocks = chance(80) ? 1 + (uint32_t)below(16) : (uint32_t)rnd();
		p.g.rangecount = chance(90) ? 1 : (uint32_t)rnd();
		p.g.byte_offset = chance(85) ? (uint32_t)below(PAGE_SIZE)
					     : (uint32_t)rnd();
		p.g.byte_count = chance(80) ? (blocks & 0xffff) * 512
					    : (uint32_t)rnd();
		npfn = ((p.g.byte_offset & 0xfff) + (p.g.byte_count & 0xffff) +
			PAGE_SIZE - 1) / PAGE_SIZE;
		if (npfn > 10 || chance(10))
			npfn = (uint32_t)below(11);
		for (uint32_t i = 0; i < npfn; i++)
			p.pfn[i] = random_pfn();
	} else {
		blocks = 1 + (uint32_t)below(8);
	}
	/* The vstor packet right after the pfns. */
	head = gpa ? (uint32_t)sizeof(p.g) + 8 * npfn : 16;
	if (chance(10))
		plen = chance(50) ? 52 : (uint32_t)below(sizeof(p.vp));
	p.vp.operation = chance(92) ? VSTOR_OPERATION_EXECUTE_SRB
				    : (uint32_t)below(20);
	if (p.vp.operation != VSTOR_OPERATION_EXECUTE_SRB)
		S.batch_reinit = true;
	srb->length = sizeof(*srb);
	srb->path_id = chance(95) ? 0 : (uint8_t)rnd();
	srb->target_id = chance(95) ? 0 : (uint8_t)rnd();
	srb->lun = chance(95) ? 0 : (uint8_t)rnd();
	srb->cdb_length = chance(80) ? (uint8_t)(6 + 2 * below(6)) : (uint8_t)rnd();
	srb->sense_info_length = (uint8_t)below(0x20);
	srb->data_in = chance(90) ? (uint8_t)below(2) : (uint8_t)rnd();
	srb->data_transfer_length = chance(70) ? p.g.byte_count : (uint32_t)rnd();
	fill_random(srb->cdb, sizeof(srb->cdb));
	srb->cdb[0] = chance(85) ? opcodes[below(ARRAY_SIZE(opcodes))]
				 : (uint8_t)rnd();
	lba = chance(80) ? below(env->capacity + 64) : rnd();
	if (srb->cdb[0] == SCSI_READ_10 || srb->cdb[0] == SCSI_WRITE_10) {
		srb->cdb[2] = (uint8_t)(lba >> 24);
		srb->cdb[3] = (uint8_t)(lba >> 16);
		srb->cdb[4] = (uint8_t)(lba >> 8);
		srb->cdb[5] = (uint8_t)lba;
		srb->cdb[7] = (uint8_t)(blocks >> 8);
		srb->cdb[8] = (uint8_t)blocks;
	} else if (srb->cdb[0] == SCSI_READ_16 || srb->cdb[0] == SCSI_WRITE_16) {
		for (unsigned i = 0; i < 8; i++)
			srb->cdb[2 + i] = (uint8_t)(lba >> (56 - 8 * i));
		srb->cdb[10] = (uint8_t)(blocks >> 24);
		srb->cdb[11] = (uint8_t)(blocks >> 16);
		srb->cdb[12] = (uint8_t)(blocks >> 8);
		srb->cdb[13] = (uint8_t)blocks;
	}
	/* Lay it out: descriptor, pfns, then the vstor packet. */
	{
		static uint8_t wire[sizeof(p) + 8] __attribute__((aligned(8)));
		struct vmbus_pkt_desc *d = (void *)wire;
		uint32_t total = head + plen;
		bool want = chance(90);

		memset(wire, 0, sizeof(wire));
		if (gpa)
			memcpy(wire, &p.g, sizeof(p.g) + 8 * npfn);
		memcpy(wire + head, &p.vp, plen);
		d->type = gpa ? VMBUS_PKT_DATA_USING_GPA_DIRECT : VMBUS_PKT_DATA_INBAND;
		d->offset8 = (uint16_t)(head / 8);
		d->len8 = (uint16_t)((total + 7) / 8);
		d->flags = want ? VMBUS_PKT_FLAG_COMPLETION_REQUESTED : 0;
		d->trans_id = ++S.next_id;
		if (put_packet(wire, d->len8 * 8u)) {
			flush_scsi();           /* ring full: empty it, retry */
			if (put_packet(wire, d->len8 * 8u))
				return;
		}
		S.sent++;
		if (want)
			track(d->trans_id);
	}
	if (++S.in_batch >= SCSI_BATCH)
		flush_scsi();
}

/* A well-formed TEST UNIT READY: GOOD. */
static bool scsi_answers(void)
{
	struct {
		struct vmbus_pkt_desc d;
		struct vstor_packet vp;
	} p;
	static uint64_t buf[64];
	uint64_t deadline = hv_time_ref_100ns() + WAIT_100NS;

	memset(&p, 0, sizeof(p));
	p.d = (struct vmbus_pkt_desc){ VMBUS_PKT_DATA_INBAND, 2, sizeof(p) / 8,
				       VMBUS_PKT_FLAG_COMPLETION_REQUESTED,
				       0x7e57 };
	p.vp.operation = VSTOR_OPERATION_EXECUTE_SRB;
	p.vp.vm_srb.length = sizeof(p.vp.vm_srb);
	p.vp.vm_srb.cdb_length = 6;
	p.vp.vm_srb.cdb[0] = SCSI_TEST_UNIT_READY;
	S.batch_signal = false;
	if (put_packet(&p, sizeof(p)))
		return false;
	hv_signal_event(env->st_conn);
	while (hv_time_ref_100ns() < deadline) {
		int n = vmbus_ring_peek(env->st_in, buf, sizeof(buf));

		if (n > 0) {
			struct vmbus_pkt_desc d;
			struct vstor_packet vp;
			bool sig;

			memcpy(&d, buf, sizeof(d));
			memcpy(&vp, (uint8_t *)buf + d.offset8 * 8, sizeof(vp));
			vmbus_ring_consume(env->st_in, (uint32_t)n, &sig);
			if (d.trans_id == 0x7e57)
				return vp.status == 0 &&
				       vp.vm_srb.srb_status == SRB_STATUS_SUCCESS;
			continue;
		}
		drain_messages();
		enlightened_vmbus_service();
		hv_spin_us(100);
	}
	return false;
}

/* ---- the run --------------------------------------------------------------- */

static void run_op(unsigned c)
{
	S.ops[c]++;
	switch (c) {
	case C_HYPERCALL:
		if (chance(10))
			op_partition_id();
		else
			op_hypercall();
		break;
	case C_MSR:
		op_msr();
		break;
	case C_IO:
		op_io();
		break;
	case C_VMBUS:
		op_vmbus();
		break;
	default:
		if (env->st_open && !S.storage_rescinded)
			op_scsi();
		else
			op_vmbus();
		break;
	}
}

static unsigned pick_class(void)
{
	unsigned x = (unsigned)below(100);

	for (unsigned c = 0; c < C_COUNT; c++) {
		if (x < class_weight[c])
			return c;
		x -= class_weight[c];
	}
	return C_HYPERCALL;
}

void storm_run(const struct storm_env *e)
{
	uint64_t n = cmdline_u64(boot.cmdline, "ops=", 100000), total = 0;
	uint64_t t0, t1, ms;
	uint16_t null_st;
	int offers;
	bool scsi_ok = false, closed = false, ok;
	char faults[96] = "";
	int fl = 0;

	env = e;
	for (unsigned i = 0; i < ram.count; i++)
		if (ram.r[i].end > mem_end)
			mem_end = ram.r[i].end;
	scratch = page_alloc(SCRATCH_PAGES * PAGE_SIZE);
	if (!scratch || !mem_end) {
		tap_result(false, "hostile: storm (no scratch pages)");
		return;
	}
	S.rng = splitmix64(boot.seed) | 1;
	fill_random(scratch, SCRATCH_PAGES * PAGE_SIZE);
	safe_rdmsr(HV_X64_MSR_SIMP, &saved_simp);
	safe_rdmsr(HV_X64_MSR_SIEFP, &saved_siefp);
	safe_rdmsr(HV_X64_MSR_SINT0 + VMBUS_MESSAGE_SINT, &saved_sint2);
	safe_rdmsr(HV_X64_MSR_SCONTROL, &saved_scontrol);
	safe_rdmsr(HV_X64_MSR_GUEST_OS_ID, &saved_osid);
	safe_rdmsr(HV_X64_MSR_HYPERCALL, &saved_hypercall);
	kprint("# storm: seed %lu, %lu operations, memory ends at %#lx", boot.seed,
	       n, mem_end);
	storm_active = true;
	t0 = hv_time_ref_100ns();
	for (uint64_t i = 0; i < n; i++) {
		run_op(pick_class());
		if (i % 256 == 255) {
			drain_messages();
			enlightened_vmbus_service();
		}
		if (i % 20000 == 19999)
			kprint("# storm: %lu operations, %lu ms", i + 1,
			       (hv_time_ref_100ns() - t0) / 10000);
	}
	flush_scsi();
	t1 = hv_time_ref_100ns();
	storm_active = false;
	restore_synthetic();
	drain_messages();
	for (unsigned c = 0; c < C_COUNT; c++)
		total += S.ops[c];
	ms = (t1 - t0) / 10000;
	for (unsigned v = 0; v < 32; v++)
		if (S.faults[v])
			fl += ksnprintf(faults + fl, sizeof(faults) - (size_t)fl,
					"%s%s %lu", fl ? ", " : "",
					v == 13 ? "#GP" : v == 14 ? "#PF" :
					v == 6 ? "#UD" : "vector", S.faults[v]);
	kprint("# storm: %lu operations in %lu ms (%lu per second); faults caught: %s",
	       total, ms, ms ? total * 1000 / ms : 0, fl ? faults : "none");
	kprint("# storm: %lu checks, %lu mismatches%s%s", S.checks, S.mismatches,
	       S.mismatches ? "; first: " : "", S.first);
	kprint("# storm: scsi %lu packets, %lu completions (each once, in order: "
	       "%lu misordered), %lu lost wake-ups; vmbus %lu messages back, "
	       "foreign GPADLs %lu refused %lu created, %lu rescinds, %lu posts "
	       "still busy after 100 ms", S.sent, S.answered, S.misordered,
	       S.stalls, S.msgs, S.gpadl_refused, S.gpadl_created, S.rescinds,
	       S.post_busy);

	/* Does everyone still answer? */
	null_st = hv_hypercall_fast0(HVCALL_ISOVISOR_NULL);
	offers = vmbus_client_request_offers(e->vc);
	if (e->st_open && !S.storage_rescinded)
		scsi_ok = scsi_answers();
	ok = S.mismatches == 0 && S.gpadl_created == 0 &&
	     null_st == HV_STATUS_SUCCESS && offers > 0 &&
	     (scsi_ok || !e->st_open) && !S.storage_rescinded;
	tap_result(ok, "hostile: %lu malformed operations (hypercall %lu, msr %lu, "
		   "io %lu, vmbus %lu, scsi %lu), seed %lu; hypervisor and root "
		   "still answer", total, S.ops[C_HYPERCALL], S.ops[C_MSR],
		   S.ops[C_IO], S.ops[C_VMBUS], S.ops[C_SCSI], boot.seed);
	kprint("# storm: after it: null hypercall status %#x, %d offers listed, "
	       "storage %s", null_st, offers,
	       scsi_ok ? "channel answers TEST UNIT READY" :
	       S.storage_rescinded ? "channel closed by the host" : "not answering");
	tap_result(S.mismatches == 0, "hostile: %lu statuses and faults as the TLFS "
		   "and the hardware define them, %lu mismatches", S.checks,
		   S.mismatches);
	tap_result(S.answered + S.misordered > 0 && !S.misordered && !S.stalls,
		   "hostile: every storage packet that asked got one completion, in "
		   "order (%lu packets, %lu completions, %u-packet batches)",
		   S.sent, S.answered, SCSI_BATCH);
	/* Last: a corrupt write index; the host must close the channel. */
	if (e->st_open && !S.storage_rescinded) {
		uint64_t deadline = hv_time_ref_100ns() + WAIT_100NS;

		e->st_out->hdr->write_index = e->st_out_bytes * 2 + 8;
		hv_signal_event(e->st_conn);
		while (!S.storage_rescinded && hv_time_ref_100ns() < deadline) {
			drain_messages();
			if (!S.storage_rescinded)
				hv_spin_us(100);
		}
		closed = S.storage_rescinded;
	}
	tap_result(closed, "hostile: a corrupt ring write index after the storm gets "
		   "the storage channel closed by the host (rescind received)");
}
