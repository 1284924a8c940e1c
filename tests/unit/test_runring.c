/*
 * Host tests of a CPU's run ring (hypervisor/runring.c): round robin over
 * the runnable VPs, none picked twice before every other runnable one had
 * its turn, blocked ones skipped at no cost to the others, removal at any
 * position (the cursor's included) keeping the order, and a VP spinning
 * forever never starving the rest.
 */
#include <string.h>
#include "check.h"
#include "runring.h"

static bool blocked[64];
static struct vp vps[64];

static bool runnable(const struct vp *vp)
{
	return !blocked[vp - vps];
}

static unsigned idx(const struct vp *vp)
{
	return vp ? (unsigned)(vp - vps) : 99;
}

int main(void)
{
	struct run_ring r;
	unsigned seen[64], bad = 0;

	memset(&r, 0, sizeof(r));
	CHECK(!runring_pick(&r, runnable) && !runring_any(&r, runnable),
	      "an empty ring picks nothing");
	for (unsigned i = 0; i < 8; i++)
		runring_add(&r, &vps[i]);
	CHECK(r.count == 8, "8 VPs in the ring");
	for (unsigned n = 0; n < 80; n++)
		bad += idx(runring_pick(&r, runnable)) != n % 8;
	CHECK(bad == 0, "80 picks go round the 8 in order (%u out of turn)", bad);

	/* Half blocked (halted, waiting for the root): the others share. */
	for (unsigned i = 0; i < 8; i += 2)
		blocked[i] = true;
	memset(seen, 0, sizeof(seen));
	for (unsigned n = 0; n < 40; n++)
		seen[idx(runring_pick(&r, runnable))]++;
	CHECK(seen[1] == 10 && seen[3] == 10 && seen[5] == 10 && seen[7] == 10 &&
	      !seen[0] && !seen[2], "blocked VPs are skipped, the runnable share evenly "
	      "(%u %u %u %u)", seen[1], seen[3], seen[5], seen[7]);
	CHECK(runring_any(&r, runnable), "any: yes while one is runnable");
	for (unsigned i = 0; i < 8; i++)
		blocked[i] = true;
	CHECK(!runring_pick(&r, runnable) && !runring_any(&r, runnable),
	      "all blocked: nothing to run");
	memset(blocked, 0, sizeof(blocked));

	/* Removal: the cursor's VP, the first, the last, a middle one. */
	while (idx(runring_pick(&r, runnable)) != 3)
		;
	runring_remove(&r, &vps[3]);                    /* the cursor */
	CHECK(idx(runring_pick(&r, runnable)) == 4,
	      "after the picked VP goes, the next pick is the one after it");
	runring_remove(&r, &vps[0]);
	runring_remove(&r, &vps[7]);
	runring_remove(&r, &vps[5]);
	runring_remove(&r, &vps[5]);                    /* twice: no-op */
	CHECK(r.count == 4 && !vps[5].run_next, "removals leave 4 (%u)", r.count);
	{
		unsigned order[8], n;

		for (n = 0; n < 8; n++)
			order[n] = idx(runring_pick(&r, runnable));
		CHECK(order[0] == 6 && order[1] == 1 && order[2] == 2 && order[3] == 4 &&
		      order[4] == 6, "the rest keep their order (%u %u %u %u %u)",
		      order[0], order[1], order[2], order[3], order[4]);
	}
	runring_remove(&r, &vps[1]);
	runring_remove(&r, &vps[2]);
	runring_remove(&r, &vps[4]);
	runring_remove(&r, &vps[6]);
	CHECK(r.count == 0 && !r.first && !r.cursor && !runring_pick(&r, runnable),
	      "the last removal empties the ring");

	/* 64 VPs, one of which spins forever: the others still run once per
	 * round of 64 picks. */
	for (unsigned i = 0; i < 64; i++)
		runring_add(&r, &vps[i]);
	memset(seen, 0, sizeof(seen));
	for (unsigned n = 0; n < 64 * 100; n++)
		seen[idx(runring_pick(&r, runnable))]++;
	bad = 0;
	for (unsigned i = 0; i < 64; i++)
		bad += seen[i] != 100;
	CHECK(bad == 0, "64 VPs, 6400 picks: each picked exactly 100 times (%u unfair)", bad);
	return done_testing();
}
