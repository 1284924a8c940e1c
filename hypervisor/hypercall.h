/* The hypercall context handlers get, and the partition management
 * handlers (partition.c) the dispatcher calls. */
#ifndef HV_HYPERCALL_H
#define HV_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>
#include "hypercall_abi.h"
#include "vp.h"

/* The input was copied in and checked for size by the dispatcher; the
 * output is copied out after the handler returns. */
struct hc_ctx {
	struct vp *vp;
	bool fast;
	unsigned rep_count, rep_start, reps_done;
	uint8_t in[HC_PAGE_SIZE];
	uint8_t out[HC_PAGE_SIZE];
};

uint16_t hc_create_partition(struct hc_ctx *c);
uint16_t hc_initialize_partition(struct hc_ctx *c);
uint16_t hc_delete_partition(struct hc_ctx *c);
uint16_t hc_map_gpa_pages(struct hc_ctx *c);
uint16_t hc_create_vp(struct hc_ctx *c);
uint16_t hc_get_vp_registers(struct hc_ctx *c);
uint16_t hc_set_vp_registers(struct hc_ctx *c);
uint16_t hc_assert_virtual_interrupt(struct hc_ctx *c);
uint16_t hc_copy_to_child(struct hc_ctx *c);
uint16_t hc_copy_from_child(struct hc_ctx *c);
uint16_t hc_get_child_dma_pages(struct hc_ctx *c);
uint16_t hc_map_child_pages(struct hc_ctx *c);
uint16_t hc_unmap_child_pages(struct hc_ctx *c);
uint16_t hc_get_mem_stats(struct hc_ctx *c);
uint16_t hc_port_credit(struct hc_ctx *c);
uint16_t hc_translate_virtual_address(struct hc_ctx *c);
uint16_t hc_console_line(struct hc_ctx *c);
uint16_t hc_install_intercept(struct hc_ctx *c);
uint16_t hc_create_port(struct hc_ctx *c);
uint16_t hc_connect_port(struct hc_ctx *c);
uint16_t hc_post_message(struct hc_ctx *c);
uint16_t hc_signal_event(struct hc_ctx *c);
uint16_t hc_set_partition_name(struct hc_ctx *c);
uint16_t hc_map_vp_state_page(struct hc_ctx *c);
uint16_t hc_dispatch_vp(struct hc_ctx *c);

#endif
