/*
 * Host tests for the cascaded 8259A model (drivers/pic8259.c): the
 * initialization sequence, masks, priorities and rotation, EOI forms,
 * the cascade through IR2, spurious IRQ 7 and 15, IRR/ISR reads, poll
 * mode, automatic EOI, special mask and special fully nested modes, ELCR
 * level triggering, and bad guest input.
 */
#include <stdint.h>
#include <string.h>
#include "check.h"
#include "pic8259.h"

static unsigned logs;

static void f_log(void *ctx, const char *msg)
{
	logs++;
}

static const struct platform plat = { .log = f_log };
static struct pic pic;

static void outb(uint16_t port, uint8_t v)
{
	uint32_t x = v;

	pic_io(&pic, port, 1, true, &x);
}

static uint8_t inb(uint16_t port)
{
	uint32_t x = 0xdeadbeef;

	pic_io(&pic, port, 1, false, &x);
	return (uint8_t)x;
}

/* Linux's init_8259A(): vectors 0x20/0x28, cascade on IR2, 8086 mode. */
static void linux_init(bool aeoi)
{
	logs = 0;
	pic_init(&pic, &plat);
	outb(PIC_MASTER_DATA, 0xff);
	outb(PIC_SLAVE_DATA, 0xff);
	outb(PIC_MASTER_CMD, 0x11);
	outb(PIC_MASTER_DATA, 0x20);
	outb(PIC_MASTER_DATA, 0x04);
	outb(PIC_MASTER_DATA, aeoi ? 0x03 : 0x01);
	outb(PIC_SLAVE_CMD, 0x11);
	outb(PIC_SLAVE_DATA, 0x28);
	outb(PIC_SLAVE_DATA, 0x02);
	outb(PIC_SLAVE_DATA, 0x01);
	outb(PIC_MASTER_DATA, 0x00);
	outb(PIC_SLAVE_DATA, 0x00);
}

static void pulse(unsigned irq)
{
	pic_set_irq(&pic, irq, true);
	pic_set_irq(&pic, irq, false);
}

static void eoi_master(void)
{
	outb(PIC_MASTER_CMD, 0x20);
}

static void eoi_slave(void)
{
	outb(PIC_SLAVE_CMD, 0x20);
}

static uint8_t read_isr(uint16_t cmd)
{
	uint8_t v;

	outb(cmd, 0x0b);
	v = inb(cmd);
	outb(cmd, 0x0a);
	return v;
}

static void test_init(void)
{
	logs = 0;
	pic_init(&pic, &plat);
	pic_set_irq(&pic, 0, true);
	CHECK(pic_pending_vector(&pic) == -1 && inb(PIC_MASTER_DATA) == 0xfb &&
	      inb(PIC_SLAVE_DATA) == 0xff,
	      "after init every line is masked but the cascade");
	outb(PIC_MASTER_DATA, 0xfa);
	CHECK(pic_pending_vector(&pic) == 0x08,
	      "BIOS vectors: IRQ 0 is 0x08 (%d)", pic_pending_vector(&pic));

	linux_init(false);
	CHECK(logs == 0, "the Linux init sequence logs nothing");
	CHECK(inb(PIC_MASTER_DATA) == 0 && inb(PIC_SLAVE_DATA) == 0,
	      "OCW1 after the ICWs sets the masks");
	CHECK(pic_pending_vector(&pic) == -1,
	      "ICW1 clears edge requests latched before it");
	pulse(0);
	CHECK(pic_pending_vector(&pic) == 0x20, "IRQ 0 -> vector 0x20");
	CHECK(pic_acknowledge(&pic) == 0x20 && pic_pending_vector(&pic) == -1,
	      "INTA returns 0x20, nothing else pending");
	eoi_master();
	pulse(8);
	CHECK(pic_pending_vector(&pic) == 0x28, "IRQ 8 -> vector 0x28");
	pulse(15);
	pic_acknowledge(&pic);
	eoi_slave();
	eoi_master();
	CHECK(pic_acknowledge(&pic) == 0x2f, "IRQ 15 -> vector 0x2f");

	/* The data port during the sequence is an ICW, not a mask. */
	linux_init(false);
	outb(PIC_MASTER_DATA, 0x5a);
	outb(PIC_MASTER_CMD, 0x11);
	outb(PIC_MASTER_DATA, 0x40);
	CHECK(inb(PIC_MASTER_DATA) == 0x00,
	      "ICW1 clears IMR; ICW2 does not write it");
	outb(PIC_MASTER_DATA, 0x04);
	outb(PIC_MASTER_DATA, 0x01);
	outb(PIC_MASTER_DATA, 0x01);
	pulse(0);
	pulse(1);
	CHECK(pic_pending_vector(&pic) == 0x41 && inb(PIC_MASTER_DATA) == 0x01,
	      "re-initialized to 0x40; the next data write is OCW1");

	/* Single mode skips ICW3: the third byte is ICW4. */
	logs = 0;
	pic_init(&pic, &plat);
	outb(PIC_MASTER_CMD, 0x13);
	outb(PIC_MASTER_DATA, 0x50);
	outb(PIC_MASTER_DATA, 0x03);            /* ICW4: 8086, AEOI */
	outb(PIC_MASTER_DATA, 0x00);            /* OCW1 */
	pulse(3);
	CHECK(pic_acknowledge(&pic) == 0x53 && read_isr(PIC_MASTER_CMD) == 0 &&
	      logs == 0, "single mode: ICW1, ICW2, ICW4; AEOI leaves ISR "
	      "clear");
}

static void test_masks_priorities(void)
{
	linux_init(false);
	outb(PIC_MASTER_DATA, 0x08);            /* mask IRQ 3 */
	pulse(3);
	CHECK(pic_pending_vector(&pic) == -1, "masked IRQ 3 not pending");
	outb(PIC_MASTER_CMD, 0x0a);
	CHECK(inb(PIC_MASTER_CMD) == 0x08, "but it is in IRR (0x%02x)",
	      inb(PIC_MASTER_CMD));
	outb(PIC_MASTER_DATA, 0x00);
	CHECK(pic_pending_vector(&pic) == 0x23, "unmasked: IRQ 3 delivered");

	pulse(1);
	CHECK(pic_pending_vector(&pic) == 0x21, "IRQ 1 beats IRQ 3");
	CHECK(pic_acknowledge(&pic) == 0x21, "INTA takes IRQ 1");
	CHECK(pic_pending_vector(&pic) == -1,
	      "IRQ 3 held off while IRQ 1 is in service");
	pulse(0);
	CHECK(pic_pending_vector(&pic) == 0x20,
	      "IRQ 0 preempts IRQ 1 in service");
	pic_acknowledge(&pic);
	CHECK(read_isr(PIC_MASTER_CMD) == 0x03, "ISR holds IRQ 0 and 1");
	outb(PIC_MASTER_CMD, 0x0a);
	CHECK(inb(PIC_MASTER_CMD) == 0x08, "IRR holds IRQ 3 only");
	eoi_master();
	CHECK(read_isr(PIC_MASTER_CMD) == 0x02 &&
	      pic_pending_vector(&pic) == -1,
	      "non-specific EOI ends the highest (IRQ 0); 3 still waits");
	eoi_master();
	CHECK(pic_pending_vector(&pic) == 0x23, "second EOI: IRQ 3 comes");

	/* Specific EOI ends the named level, not the highest. */
	pic_acknowledge(&pic);
	pulse(1);
	pic_acknowledge(&pic);
	outb(PIC_MASTER_CMD, 0x63);             /* specific EOI, IR3 */
	CHECK(read_isr(PIC_MASTER_CMD) == 0x02, "specific EOI 3 leaves 1");
	outb(PIC_MASTER_CMD, 0x61);
	CHECK(read_isr(PIC_MASTER_CMD) == 0, "specific EOI 1");
	eoi_master();
	CHECK(read_isr(PIC_MASTER_CMD) == 0, "EOI with nothing in service "
	      "is ignored");

	/* Edge triggering: a line held high requests once. */
	pic_set_irq(&pic, 4, true);
	pic_acknowledge(&pic);
	eoi_master();
	pic_set_irq(&pic, 4, true);
	CHECK(pic_pending_vector(&pic) == -1,
	      "edge: a line staying high does not request again");
	pic_set_irq(&pic, 4, false);
	pic_set_irq(&pic, 4, true);
	CHECK(pic_pending_vector(&pic) == 0x24, "edge: low then high does");
	pic_acknowledge(&pic);
	eoi_master();
	pic_set_irq(&pic, 4, false);

	/* Set priority: IR3 lowest makes IR4 highest. */
	pulse(1);
	pulse(4);
	outb(PIC_MASTER_CMD, 0xc3);
	CHECK(pic_pending_vector(&pic) == 0x24,
	      "set priority (lowest 3): IRQ 4 beats IRQ 1");
	pic_acknowledge(&pic);
	CHECK(pic_pending_vector(&pic) == -1, "IRQ 1 now below IRQ 4");
	outb(PIC_MASTER_CMD, 0xa0);             /* rotate on EOI */
	CHECK(pic_pending_vector(&pic) == 0x21,
	      "rotate on non-specific EOI: IRQ 4 now lowest");
	pulse(4);
	pic_acknowledge(&pic);
	CHECK(read_isr(PIC_MASTER_CMD) == 0x02 &&
	      pic_pending_vector(&pic) == -1, "after rotation IRQ 1 is taken "
	      "first and the lowest, IRQ 4, waits under it");
	outb(PIC_MASTER_CMD, 0xe1);             /* rotate on specific EOI 1 */
	CHECK(read_isr(PIC_MASTER_CMD) == 0 &&
	      pic_pending_vector(&pic) == 0x24, "rotate on specific EOI");
	outb(PIC_MASTER_CMD, 0xc7);
	pic_acknowledge(&pic);
	eoi_master();
}

static void test_cascade(void)
{
	linux_init(false);
	pulse(10);
	CHECK(pic_pending_vector(&pic) == 0x2a, "IRQ 10 through IR2: 0x2a");
	outb(PIC_MASTER_CMD, 0x0a);
	CHECK(inb(PIC_MASTER_CMD) == 0x04, "master IRR shows IR2");
	CHECK(pic_acknowledge(&pic) == 0x2a, "INTA answers with the slave's "
	      "vector");
	CHECK(read_isr(PIC_MASTER_CMD) == 0x04 &&
	      read_isr(PIC_SLAVE_CMD) == 0x04,
	      "both chips have the level in service");
	pulse(9);
	CHECK(pic_pending_vector(&pic) == -1,
	      "without SFNM, master IR2 in service blocks the slave's IRQ 9");
	pulse(3);
	CHECK(pic_pending_vector(&pic) == -1,
	      "and IRQ 3 is below IR2");
	pulse(1);
	CHECK(pic_pending_vector(&pic) == 0x21, "IRQ 1 is above IR2");
	pic_acknowledge(&pic);
	eoi_master();
	eoi_slave();
	CHECK(pic_pending_vector(&pic) == -1,
	      "slave EOI alone: master IR2 still in service");
	eoi_master();
	CHECK(pic_pending_vector(&pic) == 0x29,
	      "both EOIs: the slave's IRQ 9 comes next (%d)",
	      pic_pending_vector(&pic));
	pic_acknowledge(&pic);
	eoi_slave();
	eoi_master();
	CHECK(pic_pending_vector(&pic) == 0x23, "then IRQ 3");
	pic_acknowledge(&pic);
	eoi_master();

	/* Slave mask, and the master's mask on IR2. */
	outb(PIC_SLAVE_DATA, 0x01);
	pulse(8);
	CHECK(pic_pending_vector(&pic) == -1, "slave mask holds IRQ 8");
	outb(PIC_MASTER_DATA, 0x04);
	outb(PIC_SLAVE_DATA, 0x00);
	CHECK(pic_pending_vector(&pic) == -1, "master mask on IR2 holds the "
	      "whole slave");
	outb(PIC_MASTER_DATA, 0x00);
	CHECK(pic_acknowledge(&pic) == 0x28, "unmasked: IRQ 8 arrives");
	eoi_slave();
	eoi_master();

	/* An AEOI slave with two requests: the second reaches the master
	 * after the master's EOI (the slave's INT re-rises after INTA). */
	linux_init(false);
	outb(PIC_SLAVE_CMD, 0x11);
	outb(PIC_SLAVE_DATA, 0x28);
	outb(PIC_SLAVE_DATA, 0x02);
	outb(PIC_SLAVE_DATA, 0x03);             /* 8086, AEOI */
	outb(PIC_SLAVE_DATA, 0x00);
	pulse(9);
	pulse(10);
	CHECK(pic_acknowledge(&pic) == 0x29 && read_isr(PIC_SLAVE_CMD) == 0,
	      "AEOI slave: IRQ 9, nothing in service on the slave");
	CHECK(pic_pending_vector(&pic) == -1, "IRQ 10 waits for the master EOI");
	eoi_master();
	CHECK(pic_pending_vector(&pic) == 0x2a, "AEOI slave: IRQ 10 follows "
	      "the master EOI (%d)", pic_pending_vector(&pic));
	pic_acknowledge(&pic);
	eoi_master();

	/* Special fully nested mode: the slave nests inside itself. */
	logs = 0;
	linux_init(false);
	outb(PIC_MASTER_CMD, 0x11);
	outb(PIC_MASTER_DATA, 0x20);
	outb(PIC_MASTER_DATA, 0x04);
	outb(PIC_MASTER_DATA, 0x11);            /* 8086, SFNM */
	outb(PIC_MASTER_DATA, 0x00);
	pulse(10);
	pic_acknowledge(&pic);
	pulse(9);
	CHECK(pic_pending_vector(&pic) == 0x29,
	      "SFNM: IRQ 9 nests in IRQ 10 of the same slave");
	pulse(11);
	pic_acknowledge(&pic);
	CHECK(pic_pending_vector(&pic) == -1,
	      "SFNM: IRQ 11 stays below IRQ 10 in the slave");
}

static void test_spurious(void)
{
	uint8_t isr;

	linux_init(false);
	CHECK(pic_acknowledge(&pic) == 0x27 && read_isr(PIC_MASTER_CMD) == 0,
	      "INTA with nothing pending: spurious IRQ 7, ISR untouched");
	CHECK(pic.spurious == 1, "spurious counted");

	/* A level-triggered slave line dropped after the master latched
	 * the cascade request: spurious IRQ 15 with master IR2 in service. */
	outb(PIC_ELCR_SLAVE, 0x08);             /* IRQ 11 level */
	pic_set_irq(&pic, 11, true);
	CHECK(pic_pending_vector(&pic) == 0x2b, "level IRQ 11 pending");
	pic_set_irq(&pic, 11, false);
	CHECK(pic_pending_vector(&pic) == 0x2f,
	      "line dropped: the master still asks, the slave has only IR7");
	CHECK(pic_acknowledge(&pic) == 0x2f, "INTA: spurious IRQ 15");
	isr = read_isr(PIC_SLAVE_CMD);
	CHECK(isr == 0 && read_isr(PIC_MASTER_CMD) == 0x04,
	      "spurious IRQ 15: slave ISR clear, master ISR bit 2 set");
	eoi_master();
	CHECK(pic_pending_vector(&pic) == -1 && read_isr(PIC_MASTER_CMD) == 0,
	      "the master EOI clears it");

	/* Masking a request after the master latched it: spurious 15. */
	pulse(12);
	outb(PIC_SLAVE_DATA, 0x10);
	CHECK(pic_acknowledge(&pic) == 0x2f, "slave IRQ masked after latch: "
	      "spurious IRQ 15");
	eoi_master();
	outb(PIC_SLAVE_DATA, 0x00);
	CHECK(pic_acknowledge(&pic) == 0x2c, "unmasked again: IRQ 12");
	eoi_slave();
	eoi_master();
}

static void test_modes(void)
{
	linux_init(false);
	/* Level triggering via ELCR: requests again after EOI while high. */
	outb(PIC_ELCR_MASTER, 0x20);
	CHECK(inb(PIC_ELCR_MASTER) == 0x20, "ELCR stores IRQ 5 level");
	pic_set_irq(&pic, 5, true);
	CHECK(pic_acknowledge(&pic) == 0x25, "level IRQ 5");
	eoi_master();
	CHECK(pic_pending_vector(&pic) == 0x25, "level: still high, requests "
	      "again after EOI");
	pic_acknowledge(&pic);
	pic_set_irq(&pic, 5, false);
	eoi_master();
	CHECK(pic_pending_vector(&pic) == -1, "level: low, no request");
	outb(PIC_ELCR_MASTER, 0x00);

	/* Poll mode. */
	pulse(6);
	outb(PIC_MASTER_CMD, 0x0c);
	CHECK(inb(PIC_MASTER_CMD) == 0x86, "poll: 0x80 | IR6");
	CHECK(read_isr(PIC_MASTER_CMD) == 0x40, "poll acknowledged IR6");
	outb(PIC_MASTER_CMD, 0x0c);
	CHECK(inb(PIC_MASTER_DATA) == 0x00, "poll with nothing: 0");
	CHECK(inb(PIC_MASTER_DATA) == 0x00 && inb(PIC_MASTER_CMD) == 0x00,
	      "after the poll read, reads are normal again (IMR, IRR)");
	eoi_master();

	/* Automatic EOI, with rotation. */
	linux_init(true);
	pulse(3);
	pulse(5);
	CHECK(pic_acknowledge(&pic) == 0x23 && read_isr(PIC_MASTER_CMD) == 0,
	      "AEOI: nothing stays in service");
	CHECK(pic_acknowledge(&pic) == 0x25, "AEOI: the next comes at once");
	outb(PIC_MASTER_CMD, 0x80);             /* rotate in AEOI */
	pulse(0);
	pulse(1);
	CHECK(pic_acknowledge(&pic) == 0x20, "AEOI rotate: IRQ 0 first");
	pulse(0);
	CHECK(pic_acknowledge(&pic) == 0x21, "then IRQ 0 is lowest: IRQ 1");

	/* Special mask mode: a masked level in service no longer blocks. */
	linux_init(false);
	pulse(1);
	pic_acknowledge(&pic);
	pulse(4);
	CHECK(pic_pending_vector(&pic) == -1, "IRQ 4 below IRQ 1 in service");
	outb(PIC_MASTER_DATA, 0x02);
	outb(PIC_MASTER_CMD, 0x68);             /* set special mask */
	CHECK(pic_pending_vector(&pic) == 0x24,
	      "special mask mode: IRQ 4 allowed under masked IRQ 1");
	outb(PIC_MASTER_CMD, 0x48);             /* reset special mask */
	CHECK(pic_pending_vector(&pic) == -1, "special mask off again");
}

static void test_bad_input(void)
{
	uint32_t x;

	linux_init(false);
	pic_set_irq(&pic, 16, true);
	pic_set_irq(&pic, 1000, true);
	pic_set_irq(&pic, 2, true);
	CHECK(logs == 3 && pic_pending_vector(&pic) == -1,
	      "IRQ 2 and > 15 are logged and ignored");
	outb(PIC_ELCR_MASTER, 0xff);
	outb(PIC_ELCR_SLAVE, 0xff);
	CHECK(inb(PIC_ELCR_MASTER) == 0xf8 && inb(PIC_ELCR_SLAVE) == 0xde &&
	      logs == 5, "ELCR reserved bits masked and logged");
	outb(PIC_ELCR_MASTER, 0);
	outb(PIC_ELCR_SLAVE, 0);

	logs = 0;
	outb(PIC_MASTER_CMD, 0x11);
	outb(PIC_MASTER_DATA, 0x20);
	outb(PIC_MASTER_DATA, 0x04);
	outb(PIC_MASTER_DATA, 0x00);            /* ICW4 without 8086 */
	outb(PIC_MASTER_DATA, 0x00);
	pulse(1);
	CHECK(logs == 1 && pic_acknowledge(&pic) == 0x21,
	      "ICW4 MCS-80 mode: logged, runs as 8086");
	eoi_master();
	logs = 0;
	outb(PIC_MASTER_CMD, 0x10);             /* ICW1 without IC4 */
	outb(PIC_MASTER_DATA, 0x30);
	outb(PIC_MASTER_DATA, 0x04);
	outb(PIC_MASTER_DATA, 0xfd);            /* OCW1, not ICW4 */
	pulse(0);
	pulse(1);
	CHECK(logs == 1 && inb(PIC_MASTER_DATA) == 0xfd &&
	      pic_pending_vector(&pic) == 0x31,
	      "no ICW4: logged, the sequence ends after ICW3 (IRQ 0 masked)");

	x = 0x12345678;
	CHECK(pic_io(&pic, PIC_MASTER_CMD, 3, false, &x) && x == 0xffffffff &&
	      logs == 2, "size 3 access: logged, reads all ones");
	x = 0x12345678;
	CHECK(!pic_io(&pic, 0x22, 1, false, &x) && x == 0x12345678 &&
	      !pic_io(&pic, 0x4d2, 1, true, &x) &&
	      !pic_io(&pic, 0xa2, 1, false, &x), "ports not the PIC's");
	x = 0;
	CHECK(pic_io(&pic, PIC_MASTER_CMD, 2, false, &x) &&
	      (x >> 8) == 0xfd, "word read at 0x20: IRR then IMR (0x%04x)", x);
	x = 0xffff;
	pic_io(&pic, PIC_SLAVE_DATA, 4, true, &x);
	CHECK(inb(PIC_SLAVE_DATA) == 0xff, "dword write at 0xa1: the slave "
	      "mask lands, the rest goes nowhere");

	/* The slave claiming another cascade id is logged; it stays on 2. */
	logs = 0;
	linux_init(false);
	outb(PIC_SLAVE_CMD, 0x11);
	outb(PIC_SLAVE_DATA, 0x28);
	outb(PIC_SLAVE_DATA, 0x05);
	outb(PIC_SLAVE_DATA, 0x01);
	outb(PIC_SLAVE_DATA, 0x00);
	pulse(13);
	CHECK(logs == 1 && pic_acknowledge(&pic) == 0x2d,
	      "slave ICW3 id 5: logged, cascade unchanged");
	eoi_slave();
	eoi_master();

	/* A master without a slave on IR2 hands out its own IR2 vector. */
	outb(PIC_MASTER_CMD, 0x11);
	outb(PIC_MASTER_DATA, 0x20);
	outb(PIC_MASTER_DATA, 0x00);
	outb(PIC_MASTER_DATA, 0x01);
	outb(PIC_MASTER_DATA, 0x00);
	pulse(13);
	CHECK(pic_acknowledge(&pic) == 0x22 && read_isr(PIC_SLAVE_CMD) == 0,
	      "master ICW3 without IR2: the slave is not asked");
}

int main(void)
{
	test_init();
	test_masks_priorities();
	test_cascade();
	test_spurious();
	test_modes();
	test_bad_input();
	return done_testing();
}
