/*
 * netpeer: the outside world for the network tests. A host on the far
 * end of QEMU's `-netdev socket,udp=...` link (one Ethernet frame per UDP
 * datagram): it answers ARP for its address, answers ICMP echo, and
 * echoes UDP sent to port 7 back to the sender. Every frame it receives
 * is logged, one line each, so a test can see whose frames reached the
 * outside.
 *
 *   netpeer LISTEN_PORT QEMU_PORT LOG [SECONDS]
 *
 * It listens on 127.0.0.1:LISTEN_PORT (QEMU's udp= address), sends to
 * 127.0.0.1:QEMU_PORT (QEMU's localaddr=), and stops after SECONDS
 * (default 600) or at SIGTERM, with a summary line in LOG. Its address is
 * 10.0.0.254, its MAC 02:fe:00:00:00:fe.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const uint8_t my_mac[6] = { 0x02, 0xfe, 0x00, 0x00, 0x00, 0xfe };
static const uint8_t my_ip[4] = { 10, 0, 0, 254 };
static volatile sig_atomic_t stop;

static unsigned long frames, arp_replies, echo_replies, udp_echoes, bad;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t csum(const uint8_t *p, size_t n, uint32_t sum)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)get16(p + i);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void mac_str(const uint8_t *m, char *out)
{
	sprintf(out, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

/* Swap the Ethernet and IPv4 addresses of a frame (in place) for a reply
 * from us to its sender. */
static void ip_reply_addresses(uint8_t *f)
{
	memcpy(f, f + 6, 6);
	memcpy(f + 6, my_mac, 6);
	memcpy(f + 14 + 16, f + 14 + 12, 4);
	memcpy(f + 14 + 12, my_ip, 4);
	f[14 + 8] = 64;                         /* TTL */
	put16(f + 14 + 10, 0);
	put16(f + 14 + 10, csum(f + 14, 20, 0));
}

/* The reply to a frame, built in place; its length, or 0 for none. */
static size_t handle(uint8_t *f, size_t n)
{
	uint16_t type;

	if (n < 14)
		return 0;
	type = get16(f + 12);
	if (type == 0x0806 && n >= 42 && get16(f + 20) == 1 && !memcmp(f + 38, my_ip, 4)) {
		uint8_t sha[6], spa[4];

		memcpy(sha, f + 22, 6);
		memcpy(spa, f + 28, 4);
		memcpy(f, sha, 6);
		memcpy(f + 6, my_mac, 6);
		put16(f + 20, 2);
		memcpy(f + 22, my_mac, 6);
		memcpy(f + 28, my_ip, 4);
		memcpy(f + 32, sha, 6);
		memcpy(f + 38, spa, 4);
		arp_replies++;
		return n < 60 ? 60 : n;
	}
	if (type != 0x0800 || n < 34 || (f[14] & 0xf0) != 0x40 || (f[14] & 15) != 5 ||
	    memcmp(f + 14 + 16, my_ip, 4) || csum(f + 14, 20, 0))
		return 0;
	{
		size_t total = get16(f + 16), l4 = total - 20;
		uint8_t *p = f + 34;

		if (total < 28 || total + 14 > n) {
			bad++;
			return 0;
		}
		if (f[14 + 9] == 1 && p[0] == 8) {      /* ICMP echo request */
			if (csum(p, l4, 0)) {
				bad++;
				return 0;
			}
			p[0] = 0;
			put16(p + 2, 0);
			put16(p + 2, csum(p, l4, 0));
			ip_reply_addresses(f);
			echo_replies++;
			return 14 + total < 60 ? 60 : 14 + total;
		}
		if (f[14 + 9] == 17 && get16(p + 2) == 7) {     /* UDP echo */
			uint16_t sport = get16(p), dport = get16(p + 2);
			uint32_t sum = 0;

			put16(p, dport);
			put16(p + 2, sport);
			ip_reply_addresses(f);
			put16(p + 6, 0);
			/* Pseudo-header: addresses, protocol, UDP length. */
			for (int i = 0; i < 8; i += 2)
				sum += get16(f + 26 + i);
			sum += 17 + (uint32_t)l4;
			put16(p + 6, csum(p, l4, sum));
			if (!get16(p + 6))
				put16(p + 6, 0xffff);
			udp_echoes++;
			return 14 + total < 60 ? 60 : 14 + total;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in me = { .sin_family = AF_INET }, qemu = { .sin_family = AF_INET };
	struct timeval tv = { .tv_sec = 0, .tv_usec = 200000 };
	unsigned seconds = argc > 4 ? (unsigned)atoi(argv[4]) : 600;
	time_t end;
	FILE *log;
	int s;

	if (argc < 4) {
		fprintf(stderr, "usage: netpeer LISTEN_PORT QEMU_PORT LOG [SECONDS]\n");
		return 2;
	}
	log = fopen(argv[3], "w");
	if (!log) {
		perror(argv[3]);
		return 2;
	}
	setvbuf(log, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	s = socket(AF_INET, SOCK_DGRAM, 0);
	me.sin_port = htons((uint16_t)atoi(argv[1]));
	me.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	qemu.sin_port = htons((uint16_t)atoi(argv[2]));
	qemu.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (s < 0 || bind(s, (struct sockaddr *)&me, sizeof(me))) {
		perror("netpeer: bind");
		return 2;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	fprintf(log, "netpeer: 10.0.0.254 02:fe:00:00:00:fe on udp port %s, replies to %s\n",
		argv[1], argv[2]);
	end = time(NULL) + seconds;
	while (!stop && time(NULL) < end) {
		uint8_t f[2048] = { 0 };
		char src[18], dst[18];
		ssize_t n = recv(s, f, sizeof(f), 0);
		size_t r;

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			perror("netpeer: recv");
			break;
		}
		frames++;
		if (n >= 14) {
			mac_str(f + 6, src);
			mac_str(f, dst);
			fprintf(log, "frame src %s dst %s type %04x len %zd\n", src, dst,
				get16(f + 12), n);
		}
		r = handle(f, (size_t)n);
		if (r && sendto(s, f, r, 0, (struct sockaddr *)&qemu, sizeof(qemu)) < 0)
			perror("netpeer: sendto");
	}
	fprintf(log, "netpeer: %lu frames, %lu ARP replies, %lu echo replies, %lu UDP echoes, "
		"%lu bad\n", frames, arp_replies, echo_replies, udp_echoes, bad);
	fclose(log);
	return 0;
}
