/* SynIC ports and connections: see port.c. */
#ifndef HV_PORT_H
#define HV_PORT_H

#include <stdint.h>
#include "vp.h"

int port_create_hv(uint32_t port_id, uint8_t type, uint16_t base_flag,
		   uint16_t flag_count);
int port_connect_hv(struct partition *from, uint32_t connection_id,
		    uint32_t port_id);
/* HV_ISOVISOR_PORT_CREDIT_ON / _RETURN on a port the hypervisor owns. */
int port_credit_hv(uint32_t port_id, unsigned op);
void port_partition_gone(struct partition *p);
void port_drop_hv(uint32_t first, uint32_t count);

#endif
