/* Nested page tables (AMD NPT): the long-mode page table format, walked
 * with the guest's accesses treated as user accesses. */
#ifndef HV_X86_NPT_H
#define HV_X86_NPT_H

#include <stdbool.h>
#include <stdint.h>

/* Portable: the environment provides zeroed table pages and the
 * physical/virtual translation (identity in the hypervisor; host memory
 * in the unit tests). */
void *page_alloc_zeroed(void);
void page_free(void *page);
void *phys_to_virt(uint64_t pa);
uint64_t virt_to_phys(const void *va);

#define GPA_READ  1u
#define GPA_WRITE 2u
#define GPA_EXEC  4u
#define GPA_RWX   (GPA_READ | GPA_WRITE | GPA_EXEC)

struct npt {
	uint64_t *pml4;
	uint64_t pml4_pa;
	bool gb_pages;                  /* 1 GiB leaves allowed */
	uint64_t tables;                /* table pages in use */
	uint64_t leaves[3];             /* 4K, 2M, 1G mappings made */
};

int npt_init(struct npt *n, bool gb_pages);
int npt_map(struct npt *n, uint64_t gpa, uint64_t hpa, uint64_t len,
	    unsigned rights);
/* Free every table page (not the memory mapped): the tables count goes
 * back to 0. */
void npt_destroy(struct npt *n);
/* The host physical address `gpa` maps to, or -1 when unmapped. */
uint64_t npt_translate(const struct npt *n, uint64_t gpa, bool *writable);

#endif
