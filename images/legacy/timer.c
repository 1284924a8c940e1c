/*
 * The PC's timing chips as the legacy guest programs them: the two 8259A
 * PICs (remapped off the exception vectors), the 8254 PIT channel 0 as
 * the IRQ 0 rate generator, and the CMOS RTC's seconds register. These
 * are the exact port sequences a host's device models must complete:
 *
 *   PIC init: 20<-11 a0<-11 21<-20 a1<-28 21<-04 a1<-02 21<-01 a1<-01,
 *             then masks 21<-ff a1<-ff; unmask IRQ 0: 21<-fe;
 *             EOI: 20<-20 (and a0<-20 first for IRQ 8-15);
 *             ISR read for spurious IRQ 7/15: 20<-0b, in 20 (a0 for 15).
 *   PIT:      43<-34 (channel 0, lobyte/hibyte, mode 2, binary),
 *             40<-lo, 40<-hi (divisor 11932 for 100 Hz). Stopping only
 *             masks IRQ 0 again (21<-ff); the counter keeps running.
 *   RTC:      70<-0a, in 71 until bit 7 (UIP) is clear; 70<-00, in 71.
 */
#include "legacy.h"

#define PIC1_CMD  0x20
#define PIC1_DATA 0x21
#define PIC2_CMD  0xa0
#define PIC2_DATA 0xa1
#define PIC_EOI   0x20
#define PIC_READ_ISR 0x0b

#define PIT_CH0   0x40
#define PIT_CTRL  0x43
#define PIT_HZ    1193182u

#define RTC_INDEX 0x70
#define RTC_DATA  0x71
#define RTC_REG_A 0x0a
#define RTC_REG_A_UIP 0x80
/* An update cycle lasts under 2 ms; this many polls is far longer. */
#define RTC_UIP_SPINS 1000000

volatile uint64_t pit_ticks;
static uint8_t mask1 = 0xff, mask2 = 0xff;

void pic_init(void)
{
	outb(PIC1_CMD, 0x11);           /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, PIC_VECTOR_BASE);       /* ICW2: vector bases */
	outb(PIC2_DATA, PIC_VECTOR_BASE + 8);
	outb(PIC1_DATA, 0x04);          /* ICW3: slave on IR2 */
	outb(PIC2_DATA, 0x02);          /* ICW3: slave id 2 */
	outb(PIC1_DATA, 0x01);          /* ICW4: 8086 mode, normal EOI */
	outb(PIC2_DATA, 0x01);
	mask1 = mask2 = 0xff;
	outb(PIC1_DATA, mask1);
	outb(PIC2_DATA, mask2);
}

static void pic_write_masks(void)
{
	outb(PIC1_DATA, mask1);
	outb(PIC2_DATA, mask2);
}

void pic_unmask(unsigned irq)
{
	if (irq < 8) {
		mask1 &= (uint8_t)~(1u << irq);
	} else {
		mask2 &= (uint8_t)~(1u << (irq - 8));
		mask1 &= (uint8_t)~(1u << 2);   /* the cascade */
	}
	pic_write_masks();
}

void pic_mask(unsigned irq)
{
	if (irq < 8)
		mask1 |= (uint8_t)(1u << irq);
	else
		mask2 |= (uint8_t)(1u << (irq - 8));
	pic_write_masks();
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, PIC_EOI);
	outb(PIC1_CMD, PIC_EOI);
}

bool pic_in_service(unsigned irq)
{
	uint16_t cmd = irq < 8 ? PIC1_CMD : PIC2_CMD;

	outb(cmd, PIC_READ_ISR);
	return inb(cmd) & (1u << (irq & 7));
}

static void pit_tick(unsigned irq)
{
	pit_ticks++;
}

void pit_start(unsigned hz)
{
	uint32_t divisor = (PIT_HZ + hz / 2) / hz;

	if (divisor < 2)
		divisor = 2;                    /* 1 is illegal in mode 2 */
	if (divisor > 0xffff)
		divisor = 0;                    /* 0 means 65536 */
	irq_set_handler(0, pit_tick);
	outb(PIT_CTRL, 0x34);           /* channel 0, lobyte/hibyte, mode 2 */
	outb(PIT_CH0, (uint8_t)divisor);
	outb(PIT_CH0, (uint8_t)(divisor >> 8));
	pic_unmask(0);
}

void pit_stop(void)
{
	pic_mask(0);
}

int rtc_seconds(void)
{
	for (unsigned i = 0; i < RTC_UIP_SPINS; i++) {
		outb(RTC_INDEX, RTC_REG_A);
		if (inb(RTC_DATA) & RTC_REG_A_UIP)
			continue;
		/* UIP clear: the next update is at least 244 us away. */
		outb(RTC_INDEX, 0x00);
		return inb(RTC_DATA);
	}
	return -1;
}
