/* The partition config parser; see partcfg.h for the format. */
#include <stdbool.h>
#include <string.h>
#include "format.h"
#include "partcfg.h"

struct cursor {
	const char *s;
	size_t len, pos;
	unsigned line;
};

static const struct {
	const char *name;
	uint32_t bit;
} devices[] = {
	{ "uart", PARTCFG_DEV_UART }, { "ata", PARTCFG_DEV_ATA },
	{ "pit", PARTCFG_DEV_PIT }, { "pic", PARTCFG_DEV_PIC },
	{ "rtc", PARTCFG_DEV_RTC }, { "pci", PARTCFG_DEV_PCI },
	{ "testexit", PARTCFG_DEV_TESTEXIT }, { "storage", PARTCFG_DEV_STORAGE },
	{ "heartbeat", PARTCFG_DEV_HEARTBEAT }, { "shutdown", PARTCFG_DEV_SHUTDOWN },
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* The next word of the current line into w (NUL-terminated, truncated
 * words are an error); false at the end of the line. */
static int next_word(struct cursor *c, char *w, size_t wlen)
{
	size_t n = 0;

	while (c->pos < c->len && is_space(c->s[c->pos]))
		c->pos++;
	if (c->pos >= c->len || c->s[c->pos] == '\n' || c->s[c->pos] == '#')
		return 0;
	while (c->pos < c->len && !is_space(c->s[c->pos]) && c->s[c->pos] != '\n') {
		if (n + 1 >= wlen || c->s[c->pos] == '\0')
			return -1;
		w[n++] = c->s[c->pos++];
	}
	w[n] = '\0';
	return 1;
}

static void skip_line(struct cursor *c)
{
	while (c->pos < c->len && c->s[c->pos] != '\n')
		c->pos++;
	if (c->pos < c->len)
		c->pos++;
	c->line++;
}

static bool valid_name(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= PARTCFG_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-'))
			return false;
	return true;
}

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > hi)
			return false;
	}
	if (v < lo)
		return false;
	*out = (uint32_t)v;
	return true;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* xx:xx:xx:xx:xx:xx, a unicast address that is not all zeros. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	uint8_t any = 0;

	if (strlen(s) != 17)
		return false;
	for (unsigned i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
		any |= mac[i];
	}
	return any && !(mac[0] & 1);
}

static int fail(char *err, size_t errlen, unsigned line, const char *what,
		const char *word)
{
	ksnprintf(err, errlen, "line %u: %s%s%s", line, what, word ? ": " : "",
		  word ? word : "");
	return -1;
}

/* The rest of the line after "args", trimmed, as the command line. */
static int rest_of_line(struct cursor *c, char *out, size_t outlen)
{
	size_t n = 0;

	while (c->pos < c->len && is_space(c->s[c->pos]))
		c->pos++;
	while (c->pos < c->len && c->s[c->pos] != '\n') {
		if (n + 1 >= outlen || c->s[c->pos] == '\0')
			return -1;
		out[n++] = c->s[c->pos++];
	}
	while (n && is_space(out[n - 1]))
		n--;
	out[n] = '\0';
	return 0;
}

int partcfg_parse(const char *text, size_t len, struct partcfg *cfg,
		  char *err, size_t errlen)
{
	struct cursor c = { text, len, 0, 1 };
	struct partcfg_partition *cur = NULL;
	char w[PARTCFG_ARGS_MAX];

	memset(cfg, 0, sizeof(*cfg));
	while (c.pos < c.len) {
		int r = next_word(&c, w, sizeof(w));

		if (r < 0)
			return fail(err, errlen, c.line, "word too long or NUL in text", NULL);
		if (r == 0) {
			skip_line(&c);
			continue;
		}
		if (!strcmp(w, "partition")) {
			if (cur)
				return fail(err, errlen, c.line, "partition inside a partition", NULL);
			if (cfg->count == PARTCFG_MAX)
				return fail(err, errlen, c.line,
					    "too many partitions (the limit is 64)", NULL);
			if (next_word(&c, w, sizeof(w)) != 1 || !valid_name(w))
				return fail(err, errlen, c.line, "bad partition name", w);
			for (unsigned i = 0; i < cfg->count; i++)
				if (!strcmp(cfg->p[i].name, w))
					return fail(err, errlen, c.line, "duplicate name", w);
			cur = &cfg->p[cfg->count];
			memcpy(cur->name, w, strlen(w) + 1);
			cur->memory_mib = 16;
			cur->vps = 1;
			cur->timeout_s = 300;
		} else if (!cur && !strcmp(w, "switch")) {
			if (cfg->uplink_count == PARTCFG_SWITCHES_MAX)
				return fail(err, errlen, c.line, "too many switches with an uplink", NULL);
			if (next_word(&c, w, sizeof(w)) != 1 || !valid_name(w))
				return fail(err, errlen, c.line, "bad switch name", w);
			for (unsigned i = 0; i < cfg->uplink_count; i++)
				if (!strcmp(cfg->uplinks[i], w))
					return fail(err, errlen, c.line, "a second switch line for", w);
			memcpy(cfg->uplinks[cfg->uplink_count], w, strlen(w) + 1);
			if (next_word(&c, w, sizeof(w)) != 1 || strcmp(w, "uplink"))
				return fail(err, errlen, c.line, "a switch line says \"uplink\"", NULL);
			cfg->uplink_count++;
		} else if (!cur) {
			return fail(err, errlen, c.line, "keyword outside a partition", w);
		} else if (!strcmp(w, "end")) {
			if (!cur->image[0])
				return fail(err, errlen, c.line, "partition without an image", cur->name);
			if (cur->initrd[0] && !cur->linux_boot)
				return fail(err, errlen, c.line, "an initrd needs a kernel, not an image",
					    cur->name);
			if (cur->module_count && cur->linux_boot)
				return fail(err, errlen, c.line, "modules are for multiboot images; "
					    "a kernel takes an initrd", cur->name);
			if (cur->disk_mib && !(cur->devices & (PARTCFG_DEV_ATA | PARTCFG_DEV_STORAGE)))
				return fail(err, errlen, c.line, "a disk needs the ata or storage device",
					    cur->name);
			if (!cur->disk_mib && (cur->devices & PARTCFG_DEV_STORAGE))
				return fail(err, errlen, c.line, "the storage device needs a disk",
					    cur->name);
			if (cur->backing_mib && !cur->disk_mib)
				return fail(err, errlen, c.line, "backing without a disk", cur->name);
			if (cur->nic_count && cur->nics[0].model == PARTCFG_NIC_E1000 &&
			    (cur->devices & (PARTCFG_DEV_PCI | PARTCFG_DEV_PIC)) !=
			    (PARTCFG_DEV_PCI | PARTCFG_DEV_PIC))
				return fail(err, errlen, c.line, "an e1000 nic needs the pci and pic "
					    "devices", cur->name);
			cfg->count++;
			cur = NULL;
		} else if (!strcmp(w, "image") || !strcmp(w, "kernel")) {
			bool linux_boot = w[0] == 'k';

			if (cur->image[0])
				return fail(err, errlen, c.line, "a second image or kernel", w);
			if (next_word(&c, w, sizeof(w)) != 1 || !valid_name(w))
				return fail(err, errlen, c.line, "bad image name", w);
			memcpy(cur->image, w, strlen(w) + 1);
			cur->linux_boot = linux_boot;
		} else if (!strcmp(w, "initrd")) {
			if (cur->initrd[0])
				return fail(err, errlen, c.line, "a second initrd", w);
			if (next_word(&c, w, sizeof(w)) != 1 || !valid_name(w))
				return fail(err, errlen, c.line, "bad initrd name", w);
			memcpy(cur->initrd, w, strlen(w) + 1);
		} else if (!strcmp(w, "memory") || !strcmp(w, "vps") ||
			   !strcmp(w, "disk") || !strcmp(w, "timeout") ||
			   !strcmp(w, "backing")) {
			static const struct {
				char key;
				uint32_t lo, hi;
			} lim[] = { { 'm', 1, PARTCFG_MEMORY_MAX_MIB }, { 'v', 1, PARTCFG_VPS_MAX },
				    { 'd', 0, 1024 },
				    { 't', 1, 3600 }, { 'b', 1, 1u << 20 } };
			uint32_t *field = w[0] == 'm' ? &cur->memory_mib :
					  w[0] == 'v' ? &cur->vps :
					  w[0] == 'd' ? &cur->disk_mib :
					  w[0] == 'b' ? &cur->backing_mib : &cur->timeout_s;
			unsigned k = 0;

			while (lim[k].key != w[0])
				k++;
			if (next_word(&c, w, sizeof(w)) != 1 ||
			    !parse_u32(w, lim[k].lo, lim[k].hi, field)) {
				char why[48];

				ksnprintf(why, sizeof(why), "number out of range %u..%u",
					  lim[k].lo, lim[k].hi);
				return fail(err, errlen, c.line, why, w);
			}
		} else if (!strcmp(w, "devices")) {
			int r2;

			while ((r2 = next_word(&c, w, sizeof(w))) == 1) {
				unsigned i = 0;

				while (i < sizeof(devices) / sizeof(devices[0]) &&
				       strcmp(devices[i].name, w))
					i++;
				if (i == sizeof(devices) / sizeof(devices[0]))
					return fail(err, errlen, c.line, "unknown device", w);
				cur->devices |= devices[i].bit;
			}
			if (r2 < 0)
				return fail(err, errlen, c.line, "word too long", NULL);
			continue;       /* the line is consumed */
		} else if (!strcmp(w, "module")) {
			struct partcfg_module *m;

			if (cur->module_count == PARTCFG_MODULES_MAX)
				return fail(err, errlen, c.line, "too many modules", w);
			m = &cur->modules[cur->module_count];
			if (next_word(&c, w, sizeof(w)) != 1 || !valid_name(w))
				return fail(err, errlen, c.line, "bad module name", w);
			memcpy(m->name, w, strlen(w) + 1);
			if (rest_of_line(&c, m->args, sizeof(m->args)))
				return fail(err, errlen, c.line, "module arguments too long", NULL);
			cur->module_count++;
			continue;
		} else if (!strcmp(w, "nic")) {
			struct partcfg_nic *nic;
			bool named;

			if (cur->nic_count == PARTCFG_NICS_MAX)
				return fail(err, errlen, c.line, "too many nics", w);
			nic = &cur->nics[cur->nic_count];
			if (next_word(&c, w, sizeof(w)) != 1 || !valid_name(w))
				return fail(err, errlen, c.line, "bad switch name", w);
			memcpy(nic->sw, w, strlen(w) + 1);
			if (next_word(&c, w, sizeof(w)) != 1 || !parse_mac(w, nic->mac))
				return fail(err, errlen, c.line, "bad MAC address (want a unicast "
					    "xx:xx:xx:xx:xx:xx)", w);
			for (unsigned i = 0; i <= cfg->count; i++)
				for (unsigned k = 0; k < cfg->p[i].nic_count; k++)
					if (!memcmp(cfg->p[i].nics[k].mac, nic->mac, 6))
						return fail(err, errlen, c.line,
							    "MAC address already used", w);
			nic->model = PARTCFG_NIC_E1000;
			r = next_word(&c, w, sizeof(w));
			named = r == 1 && (!strcmp(w, "netvsc") || !strcmp(w, "e1000"));
			if (named) {
				nic->model = w[0] == 'n' ? PARTCFG_NIC_NETVSC : PARTCFG_NIC_E1000;
				r = next_word(&c, w, sizeof(w));
			}
			if (r == 1 && !strcmp(w, "macchange")) {
				if (nic->model != PARTCFG_NIC_NETVSC)
					return fail(err, errlen, c.line, "macchange needs the netvsc "
						    "model", NULL);
				nic->macchange = 1;
				r = next_word(&c, w, sizeof(w));
			}
			if (r < 0)
				return fail(err, errlen, c.line, "word too long", NULL);
			if (r == 1)
				return fail(err, errlen, c.line, named || nic->macchange ?
					    "extra words" : "unknown nic model", w);
			cur->nic_count++;
			continue;       /* the line is consumed */
		} else if (!strcmp(w, "args")) {
			if (rest_of_line(&c, cur->args, sizeof(cur->args)))
				return fail(err, errlen, c.line, "args too long", NULL);
			continue;
		} else {
			return fail(err, errlen, c.line, "unknown keyword", w);
		}
		if (next_word(&c, w, sizeof(w)) != 0)
			return fail(err, errlen, c.line, "extra words", w);
	}
	if (cur)
		return fail(err, errlen, c.line, "missing end", cur->name);
	return 0;
}
