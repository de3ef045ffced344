/*
 * The TFTP server on libevent: one listener socket (port 69) for requests,
 * and per RRQ a transfer object with its own UDP socket (RFC 1350: the new
 * socket's port is the server's transfer ID), one read event and one timer.
 * The protocol itself lives in wire.c (codec) and xfer.c (state machine).
 */
#include "tftp/server.h"

#include "boot/vfs.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/ratelimit.h"
#include "core/udp.h"
#include "core/util.h"
#include "obs/live.h"
#include "obs/metrics.h"
#include "obs/obs.h"
#include "pxed.h"
#include "tftp/timer.h"
#include "tftp/upload.h"
#include "tftp/wire.h"
#include "tftp/xfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <net/if.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h: UDP GSO, Linux 4.18 */
#endif

/*
 * Limits: a flood of RRQs costs at most tftp.max_transfers sockets and
 * buffers (tftp.max_per_client from one address), and each address may
 * start tftp.rate_per_address requests a second; the rate table holds this
 * many addresses (32 bytes each, core/ratelimit.h).
 */
#define TFTP_RL_ADDRESSES 4096
/* Unanswered transfers whose socket is looked into before one is evicted. */
#define TFTP_EVICT_PEEKS 8
/* Largest datagram we read: any sane RRQ or client packet is far smaller. */
#define TFTP_RX_MAX 4096
/* Datagrams handled per wake-up, so one busy socket cannot starve the rest. */
#define TFTP_RX_BURST 64
/* The escaped file name kept for logs and the timeline. */
#define TFTP_LOG_PATH_MAX 200
/*
 * UDP GSO (one sendmsg, many datagrams): at most this many segments and
 * payload bytes per send (the kernel's limits are 64 or 128 segments and a
 * 64 KiB IP packet).
 */
#define TFTP_GSO_SEGS_MAX 64
#define TFTP_GSO_BYTES_MAX 65000
/* Send buffer of a windowed transfer's socket: a whole window in flight. */
#define TFTP_SNDBUF_BYTES (2 * 1024 * 1024)
/* How long an interface's MTU is trusted before it is asked again. */
#define TFTP_MTU_TTL_US (10 * 1000000ull)
#define TFTP_MTU_CACHE 8
/*
 * Page-table entries for the mapping are filled this far ahead of the block
 * being sent, in one call: the kernel's copy then never takes a page fault
 * (each costs more than copying the 64 KiB it maps, in a VM).
 */
#define TFTP_POPULATE_AHEAD (1u << 20)

struct tftp_transfer;

struct tftp_server {
	struct pxed *d;
	int fd;
	uint32_t bind_ip;
	struct event *ev;
	struct tftp_transfer *head; /* live transfers, owned by the server */
	unsigned n_transfers;
	uint64_t refused_busy;
	/* Requests per client address (NULL: no limit), and drops so far for the log. */
	struct ratelimit *rl_addr;
	uint64_t rate_limited;
	bool no_gso; /* the kernel or a device refused UDP GSO once: never again */
	struct {
		unsigned ifindex; /* 0: free slot */
		unsigned mtu;
		uint64_t at_us;
	} mtu_cache[TFTP_MTU_CACHE];
};

/* One allocation per transfer: the object and its packet buffer behind it. */
struct tftp_transfer {
	struct tftp_server *srv;
	struct tftp_transfer *prev, *next;
	/*
	 * fd is connected to the client: the kernel hands it only the client's
	 * packets and sends on it without a route lookup per datagram. sfd, an
	 * unconnected socket on the same port (tftp_transfer_sockets), gets
	 * everyone else's, which are answered with ERROR 5. sfd is -1 when the
	 * pair could not be made: fd is then one unconnected socket for both.
	 */
	int fd, sfd;
	struct event *ev, *sev, *timer;
	uint64_t armed_us;  /* deadline the timer is set for; 0 = none */
	uint32_t client_ip; /* host order */
	uint16_t client_port;
	struct vfs_file file; /* owned from tftp_transfer_new() until tftp_transfer_free() */
	/*
	 * The file's bytes, for sending straight from the page cache: a private
	 * read-only mapping of a real file (map_len bytes), or a rendered file's
	 * buffer. NULL: data goes through read() (an empty or unmappable file).
	 */
	const uint8_t *src;
	size_t map_len;
	size_t populated; /* bytes of the mapping made present so far */
	bool gso;	  /* segments fit the path: UDP GSO may carry a window */
	bool evicted;	  /* ended to make room: its client never answered */
	char path[TFTP_LOG_PATH_MAX];
	uint64_t start_us;
	unsigned live_id; /* obs/live.h: the status view's entry; 0 = not shown */
	struct tftp_xfer x;
	size_t buf_cap;
	uint8_t buf[]; /* tftp_xfer_buf_size() bytes, used by x */
};

/* A reply can leave from the address the request reached, unless that was a
 * broadcast or multicast address. */
static uint32_t tftp_reply_src(const struct tftp_server *s, uint32_t local_ip)
{
	if (local_ip == 0 || local_ip == 0xffffffffu || (local_ip >> 28) == 0xe)
		return s->bind_ip;
	return local_ip;
}

static void tftp_send_error(struct tftp_server *s, int fd, const struct sockaddr_in *to,
			    uint32_t src_ip, uint16_t code, const char *msg)
{
	uint8_t pkt[TFTP_CTRL_MAX];
	int len = tftp_encode_error(pkt, sizeof(pkt), code, msg);

	if (len < 0 || to->sin_port == 0)
		return;
	if (udp_send(fd, pkt, (size_t)len, ntohl(to->sin_addr.s_addr), ntohs(to->sin_port), 0,
		     src_ip) == 0)
		metric_inc(&s->d->metrics, METRIC_TFTP_ERROR_SENT);
}

/* --- one transfer ------------------------------------------------------ */

static ssize_t tftp_transfer_read(void *ctx, uint64_t off, void *dst, size_t n)
{
	struct tftp_transfer *t = ctx;
	size_t done = 0;

	if (off > t->file.size || n > t->file.size - off)
		return -EINVAL;
	if (t->file.kind == VFS_RENDERED) {
		memcpy(dst, t->file.data + off, n);
		return (ssize_t)n;
	}
	while (done < n) {
		ssize_t r = pread(t->file.fd, (uint8_t *)dst + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EIO; /* the file shrank under us */
		done += (size_t)r;
	}
	return (ssize_t)n;
}

static int tftp_transfer_send(void *ctx, const void *pkt, size_t len)
{
	struct tftp_transfer *t = ctx;

	if (t->sfd >= 0)
		return send(t->fd, pkt, len, MSG_DONTWAIT) < 0 ? -errno : 0;
	return udp_send(t->fd, pkt, len, t->client_ip, t->client_port, 0, 0);
}

/*
 * Fills msgs for blocks: each DATA packet is a 4-byte header from hdr and the
 * payload straight from t->src. With GSO, runs of full blocks share one
 * message that the kernel cuts into datagrams (the final short block may end
 * a run). Returns the number of messages; per_msg[i] is message i's blocks.
 */
static unsigned tftp_build_msgs(struct tftp_transfer *t, const struct tftp_block *b, unsigned n,
				bool gso, uint8_t (*hdr)[TFTP_DATA_HDR], struct iovec *iov,
				struct mmsghdr *mm, uint8_t (*ctl)[CMSG_SPACE(sizeof(uint16_t))],
				struct sockaddr_in *to, unsigned *per_msg)
{
	size_t seg = (size_t)t->x.p.blksize + TFTP_DATA_HDR;
	unsigned max_segs = 1, nmsg = 0;

	if (gso) {
		max_segs = (unsigned)(TFTP_GSO_BYTES_MAX / seg);
		if (max_segs > TFTP_GSO_SEGS_MAX)
			max_segs = TFTP_GSO_SEGS_MAX;
		if (max_segs == 0)
			max_segs = 1;
	}
	for (unsigned i = 0; i < n; i++) {
		hdr[i][0] = 0;
		hdr[i][1] = TFTP_DATA;
		hdr[i][2] = (uint8_t)(b[i].block >> 8); /* RFC 1350: the block number mod 2^16 */
		hdr[i][3] = (uint8_t)b[i].block;
		iov[2 * i] = (struct iovec){.iov_base = hdr[i], .iov_len = TFTP_DATA_HDR};
		iov[2 * i + 1] =
		    (struct iovec){.iov_base = (void *)(t->src + b[i].off), .iov_len = b[i].len};
	}
	for (unsigned i = 0; i < n; nmsg++) {
		unsigned k = 1;
		struct msghdr *mh = &mm[nmsg].msg_hdr;

		/* Only the block that ends the file may be short, and it ends its run. */
		while (k < max_segs && i + k < n && b[i + k - 1].len == t->x.p.blksize)
			k++;
		memset(&mm[nmsg], 0, sizeof(mm[nmsg]));
		if (to != NULL) { /* NULL: the socket is connected */
			mh->msg_name = to;
			mh->msg_namelen = sizeof(*to);
		}
		mh->msg_iov = &iov[2 * i];
		mh->msg_iovlen = 2 * k;
		if (k > 1) {
			struct cmsghdr *c;
			uint16_t gso_size = (uint16_t)seg;

			/* CMSG_SPACE pads past CMSG_LEN: no stack bytes to the kernel. */
			memset(ctl[nmsg], 0, sizeof(ctl[nmsg]));
			mh->msg_control = ctl[nmsg];
			mh->msg_controllen = sizeof(ctl[nmsg]);
			c = CMSG_FIRSTHDR(mh);
			c->cmsg_level = SOL_UDP;
			c->cmsg_type = UDP_SEGMENT;
			c->cmsg_len = CMSG_LEN(sizeof(gso_size));
			memcpy(CMSG_DATA(c), &gso_size, sizeof(gso_size));
		}
		per_msg[nmsg] = k;
		i += k;
	}
	return nmsg;
}

/*
 * Makes the mapping present up to at least end (and TFTP_POPULATE_AHEAD
 * beyond). Reads the file like pread would if it is not cached; a kernel
 * without MADV_POPULATE_READ (before 5.14) takes the page faults instead.
 * No MADV_WILLNEED beyond: the faults of a MADV_SEQUENTIAL mapping already
 * start the kernel's read-ahead, and on a cached file (the usual case: every
 * machine of a rack reads the same files) WILLNEED only walks the page cache
 * again, which cost up to a fifth of the CPU time at blksize 65464
 * (docs/benchmarks.md).
 */
static void tftp_transfer_populate(struct tftp_transfer *t, uint64_t end)
{
#ifdef MADV_POPULATE_READ
	size_t to;

	if (t->map_len == 0 || end <= t->populated)
		return;
	/*
	 * Until the client answers, only what is sent: a spoofed RRQ must not
	 * cost a megabyte of mapped pages (memory) and a read-ahead (disk).
	 */
	if (!t->x.answered) {
		to = ((size_t)end + 4095) & ~(size_t)4095;
		if (to > t->map_len)
			to = t->map_len;
		if (madvise((uint8_t *)t->src + t->populated, to - t->populated,
			    MADV_POPULATE_READ) < 0)
			t->populated = t->map_len;
		else
			t->populated = to;
		return;
	}
	to = t->populated + TFTP_POPULATE_AHEAD;
	if (to < end)
		to = ((size_t)end + 4095) & ~(size_t)4095; /* the next start stays page-aligned */
	if (to > t->map_len)
		to = t->map_len;
	/* madvise wants a page-aligned start: populated is always a multiple of 4 KiB. */
	if (madvise((uint8_t *)t->src + t->populated, to - t->populated, MADV_POPULATE_READ) < 0) {
		t->populated = t->map_len; /* not supported, or a short file: stop asking */
		return;
	}
	t->populated = to;
#else
	(void)t;
	(void)end;
#endif
}

/*
 * A window in one sendmmsg: the payloads are copied once, from the page
 * cache into the socket, and never into a buffer of ours. A file cut short
 * under the mapping makes the kernel's copy fail (EFAULT, not SIGBUS, since
 * only the kernel touches the mapping): that ends the transfer.
 */
static int tftp_transfer_send_data(void *ctx, const struct tftp_block *b, unsigned n)
{
	struct tftp_transfer *t = ctx;
	struct tftp_server *s = t->srv;
	uint8_t hdr[TFTP_WINDOW_MAX][TFTP_DATA_HDR];
	uint8_t ctl[TFTP_WINDOW_MAX][CMSG_SPACE(sizeof(uint16_t))] __attribute__((aligned(8)));
	struct iovec iov[2 * TFTP_WINDOW_MAX];
	struct mmsghdr mm[TFTP_WINDOW_MAX];
	unsigned per_msg[TFTP_WINDOW_MAX];
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(t->client_port),
				 .sin_addr.s_addr = htonl(t->client_ip)};
	struct sockaddr_in *dst = t->sfd >= 0 ? NULL : &to; /* NULL: fd is connected */
	bool gso = t->gso && !s->no_gso && n > 1;
	unsigned nmsg, done = 0, blocks = 0;

	if (n == 0 || n > TFTP_WINDOW_MAX)
		return 0;
	tftp_transfer_populate(t, b[n - 1].off + b[n - 1].len);
	nmsg = tftp_build_msgs(t, b, n, gso, hdr, iov, mm, ctl, dst, per_msg);
	while (done < nmsg) {
		int r = sendmmsg(t->fd, &mm[done], nmsg - done, MSG_DONTWAIT);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EFAULT)
			return -EIO;
		if (r < 0 && gso && done == 0 &&
		    (errno == EIO || errno == EINVAL || errno == EMSGSIZE)) {
			/*
			 * EIO: no GSO on this kernel or device (no checksum
			 * offload): never again. EMSGSIZE (EINVAL on older
			 * kernels): a segment is larger than the route's MTU
			 * (a smaller path MTU than the interface's, a tunnel):
			 * this transfer sends plain datagrams, which the
			 * kernel may fragment.
			 */
			if (errno == EIO) {
				log_info("tftp", "UDP GSO refused (%s): one datagram per call",
					 strerror(errno));
				s->no_gso = true;
			}
			t->gso = false;
			gso = false;
			nmsg = tftp_build_msgs(t, b, n, false, hdr, iov, mm, ctl, dst, per_msg);
			continue;
		}
		if (r <= 0)
			break; /* a full socket buffer: the rest is lost, the timer resends */
		for (int i = 0; i < r; i++)
			blocks += per_msg[done + (unsigned)i];
		done += (unsigned)r;
	}
	return (int)blocks;
}

static const struct tftp_xfer_ops tftp_transfer_ops = {
    .read = tftp_transfer_read,
    .send = tftp_transfer_send,
};

/* Transfers whose bytes are at hand (t->src) send whole windows at once. */
static const struct tftp_xfer_ops tftp_transfer_ops_direct = {
    .read = tftp_transfer_read,
    .send = tftp_transfer_send,
    .send_data = tftp_transfer_send_data,
};

static void tftp_transfer_free(struct tftp_transfer *t)
{
	struct tftp_server *s = t->srv;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		s->head = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	s->n_transfers--;
	if (t->ev != NULL)
		event_free(t->ev);
	if (t->sev != NULL)
		event_free(t->sev);
	if (t->timer != NULL)
		event_free(t->timer);
	if (t->fd >= 0)
		close(t->fd);
	if (t->sfd >= 0)
		close(t->sfd);
	if (t->map_len > 0)
		munmap((void *)t->src, t->map_len);
	vfs_file_close(&t->file);
	free(t);
}

/* "nbp snponly.efi size=1049600 blksize=1468 windowsize=4", then the outcome. */
static void tftp_transfer_detail(const struct tftp_transfer *t, char *out, size_t cap)
{
	const struct tftp_xfer *x = &t->x;
	char msg[TFTP_ERRMSG_MAX * 4 + 1];
	int n;

	n = snprintf(out, cap, "%s %s size=%" PRIu64 " blksize=%u windowsize=%u%s",
		     t->file.what ? t->file.what : "file", t->path, x->p.size, x->p.blksize,
		     x->p.windowsize, x->p.mode == TFTP_MODE_NETASCII ? " netascii" : "");
	if (n < 0 || (size_t)n >= cap || x->state == TFTP_XS_DONE)
		return;
	if (x->client_error) {
		log_escape(msg, sizeof(msg), x->client_err_text, x->client_err_len);
		snprintf(out + n, cap - (size_t)n, ": client error %u \"%s\"", x->client_err_code,
			 msg);
	} else {
		snprintf(out + n, cap - (size_t)n, ": %s",
			 x->fail_reason ? x->fail_reason : "failed");
	}
}

static void tftp_report(struct pxed *d, const struct tftp_transfer *t, const char *detail,
			uint64_t bytes, uint64_t duration_us, bool ok, bool client_abort)
{
	uint32_t ip = t->client_ip;
	char ipbuf[16];

	if (d->obs != NULL) {
		/* Where it ended: the last block, or the first the client never acknowledged. */
		obs_event(d->obs, &(struct obs_event){.mac = NULL,
						      .ip = ip,
						      .proto = "tftp",
						      .kind = "transfer",
						      .detail = detail,
						      .bytes = bytes,
						      .duration_us = duration_us,
						      .ok = ok,
						      .expected = client_abort,
						      .file = t->path,
						      .block = ok ? t->x.acked : t->x.acked + 1,
						      .retries = t->x.retries});
		return;
	}
	log_info("tftp", "%s %s: %s, %" PRIu64 " bytes in %" PRIu64 " ms", ip4_format(ipbuf, ip),
		 ok ? "sent" : "failed", detail, bytes, duration_us / 1000);
}

/*
 * The one close path: reports the outcome, counts it, frees everything. A
 * client ERROR (EDK2 aborts its tsize probe with ERROR 8) is an ordinary end.
 */
static void tftp_transfer_end(struct tftp_transfer *t)
{
	struct pxed *d = t->srv->d;
	bool ok = t->x.state == TFTP_XS_DONE;
	char detail[512];

	tftp_transfer_detail(t, detail, sizeof(detail));
	metric_inc(&d->metrics, ok ? METRIC_TFTP_DONE : METRIC_TFTP_FAILED);
	metric_add(&d->metrics, METRIC_TFTP_BYTES, t->x.bytes_sent);
	metric_add(&d->metrics, METRIC_TFTP_RETRANSMITS, t->x.retransmits);
	if (t->x.error_sent)
		metric_inc(&d->metrics, METRIC_TFTP_ERROR_SENT);
	if (!ok && t->x.client_error)
		metric_inc(&d->metrics, METRIC_TFTP_ENDED_BY_CLIENT);
	if (!ok && !t->x.answered)
		metric_inc(&d->metrics, t->evicted ? METRIC_TFTP_UNANSWERED_EVICTED
						   : METRIC_TFTP_UNANSWERED_TIMEOUT);
	if (ok)
		metric_observe_us(&d->metrics, METRIC_HIST_TFTP_SECONDS,
				  now_mono_us() - t->start_us);
	obs_transfer_end(d->live, t->live_id);
	/* A client that ends a transfer itself chose to: EDK2 does after its tsize probe. */
	tftp_report(d, t, detail, t->x.bytes_sent, now_mono_us() - t->start_us, ok,
		    t->x.client_error);
	tftp_transfer_free(t);
}

/* Runs one event through the state machine; true when t is gone. */
static bool tftp_transfer_step(struct tftp_transfer *t, const struct tftp_xfer_event *ev)
{
	uint64_t now = now_mono_us(), deadline;

	tftp_xfer_step(&t->x, ev, now, &deadline);
	obs_transfer_progress(t->srv->d->live, t->live_id, t->x.acked * t->x.p.blksize);
	if (tftp_xfer_ended(&t->x)) {
		tftp_transfer_end(t);
		return true;
	}
	tftp_timer_set(t->timer, &t->armed_us, deadline, now, true);
	return false;
}

static void tftp_transfer_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_transfer *t = arg;

	t->armed_us = 0;
	tftp_transfer_step(t, &(struct tftp_xfer_event){.kind = TFTP_XEV_TIMEOUT});
}

/*
 * RFC 1350 section 4: a packet from any other address or port gets ERROR 5
 * and the transfer goes on undisturbed. An ERROR is never answered, so two
 * confused servers cannot ping-pong.
 */
static void tftp_transfer_stranger(struct tftp_transfer *t, int fd, const uint8_t *pkt,
				   ssize_t n, const struct udp_meta *m)
{
	struct tftp_msg msg;

	if (n >= 0 && tftp_decode_msg(pkt, (size_t)n, &msg) == 0 && msg.opcode == TFTP_ERROR)
		return;
	tftp_send_error(t->srv, fd, &m->peer, 0, TFTP_ERR_BADID, "unknown transfer ID");
}

static bool tftp_transfer_is_client(const struct tftp_transfer *t, const struct udp_meta *m)
{
	return ntohl(m->peer.sin_addr.s_addr) == t->client_ip &&
	       ntohs(m->peer.sin_port) == t->client_port;
}

/*
 * One datagram per wake-up: a transfer's socket holds one ACK at a time
 * (lockstep) or one per window, and the event is level-triggered, so anything
 * left is reported again; reading until EAGAIN would cost a system call per
 * block for nothing.
 */
static void tftp_transfer_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_transfer *t = arg;
	struct metrics *mt = &t->srv->d->metrics;
	uint8_t pkt[TFTP_RX_MAX];
	struct udp_meta m = {0};
	socklen_t alen = sizeof(m.peer);
	struct tftp_msg msg;
	ssize_t n;

	n = recvfrom(fd, pkt, sizeof(pkt), MSG_DONTWAIT | MSG_TRUNC, (struct sockaddr *)&m.peer,
		     &alen);
	if (n < 0)
		return; /* EAGAIN: nothing after all; anything else: the next wake-up */
	metric_inc(mt, METRIC_TFTP_RX);
	if (n > (ssize_t)sizeof(pkt))
		n = -EMSGSIZE; /* truncated: not the packet the peer sent */
	if (!tftp_transfer_is_client(t, &m)) {
		tftp_transfer_stranger(t, fd, pkt, n, &m);
		return;
	}
	if (n < 0 || tftp_decode_msg(pkt, (size_t)n, &msg) < 0) {
		metric_inc(mt, METRIC_TFTP_BAD);
		return;
	}
	tftp_transfer_step(t, &(struct tftp_xfer_event){.kind = TFTP_XEV_PACKET, .msg = &msg});
}

/*
 * Points t->src at the file's bytes. A real file is mapped read-only and
 * private: the kernel copies from the page cache straight into each packet.
 */
static void tftp_transfer_map(struct tftp_transfer *t)
{
	void *p;

	if (t->file.size == 0 || t->file.size > SIZE_MAX)
		return;
	if (t->file.kind == VFS_RENDERED) {
		t->src = (const uint8_t *)t->file.data;
		return;
	}
	p = mmap(NULL, (size_t)t->file.size, PROT_READ, MAP_PRIVATE, t->file.fd, 0);
	if (p == MAP_FAILED)
		return; /* e.g. a filesystem without mmap: read() it is */
	(void)madvise(p, (size_t)t->file.size, MADV_SEQUENTIAL);
	t->src = p;
	t->map_len = (size_t)t->file.size;
}

/*
 * The transfer's sockets (struct tftp_transfer): one bound to src (host
 * order) on a port of the kernel's choice and connected to peer, returned,
 * and *stranger, unconnected on the same port. The first is bound without
 * SO_REUSEPORT, so the kernel picks a port no socket holds; SO_REUSEPORT
 * is on only while the second joins it, and off again before the first is
 * connected: no later bind, of pxed or of anyone, can share the port. When
 * the pair cannot be made: one unconnected socket (*stranger = -1), alone
 * on its port, as before. Returns the descriptor or -errno.
 */
static int tftp_transfer_sockets(uint32_t src, const struct sockaddr_in *peer, int *stranger)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int one = 1, zero = 0;
	int fd = udp_open(src, 0, NULL, UDP_NO_PKTINFO);
	int sfd;

	*stranger = -1;
	if (fd < 0)
		return fd;
	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0)
		goto alone;
	sfd = udp_open(src, ntohs(sa.sin_port), NULL, UDP_NO_PKTINFO | UDP_REUSEPORT);
	if (sfd < 0)
		goto alone;
	if (setsockopt(sfd, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof(zero)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof(zero)) < 0 ||
	    connect(fd, (const struct sockaddr *)peer, sizeof(*peer)) < 0) {
		close(sfd);
		goto alone;
	}
	*stranger = sfd;
	return fd;
alone:
	/* Off, or the port stays open to a later bind with SO_REUSEPORT. */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &zero, sizeof(zero)) < 0) {
		close(fd);
		return udp_open(src, 0, NULL, UDP_NO_PKTINFO);
	}
	return fd;
}

/*
 * Creates the transfer with its sockets (tftp_transfer_sockets) bound to
 * the address the RRQ reached (so replies leave from the address the client
 * talked to), their read events and its timer. Takes ownership of *f only on
 * success.
 */
static int tftp_transfer_new(struct tftp_server *s, const struct tftp_xfer_params *p,
			     const struct udp_meta *m, struct vfs_file *f, bool gso,
			     struct tftp_transfer **out)
{
	size_t cap = tftp_xfer_buf_size(p);
	struct tftp_transfer *t = calloc(1, sizeof(*t) + cap);
	int rc = -ENOMEM;

	if (t == NULL)
		return -ENOMEM;
	t->srv = s;
	t->buf_cap = cap;
	t->client_ip = ntohl(m->peer.sin_addr.s_addr);
	t->client_port = ntohs(m->peer.sin_port);
	t->start_us = now_mono_us();
	t->sfd = -1;
	t->fd = tftp_transfer_sockets(tftp_reply_src(s, m->local_ip), &m->peer, &t->sfd);
	if (t->fd < 0) {
		rc = t->fd;
		goto fail;
	}
	if (p->windowsize > 1) {
		/*
		 * A whole window in flight: on a real NIC the packets stay charged
		 * to the socket until the card has sent them. SO_SNDBUFFORCE
		 * passes wmem_max while privileged; SO_SNDBUF is capped by it
		 * (a smaller buffer only shortens bursts: the timer resends).
		 */
		int bytes = TFTP_SNDBUF_BYTES;
		if (setsockopt(t->fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof(bytes)) < 0)
			(void)setsockopt(t->fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof(bytes));
	}
	t->ev = event_new(s->d->base, t->fd, EV_READ | EV_PERSIST, tftp_transfer_read_cb, t);
	t->timer = evtimer_new(s->d->base, tftp_transfer_timer_cb, t);
	if (t->ev == NULL || t->timer == NULL || event_add(t->ev, NULL) < 0)
		goto fail;
	if (t->sfd >= 0) {
		t->sev = event_new(s->d->base, t->sfd, EV_READ | EV_PERSIST, tftp_transfer_read_cb, t);
		if (t->sev == NULL || event_add(t->sev, NULL) < 0)
			goto fail;
	}
	t->file = *f;
	tftp_transfer_map(t);
	t->gso = gso;
	rc = tftp_xfer_init(&t->x, p,
			    t->src != NULL ? &tftp_transfer_ops_direct : &tftp_transfer_ops, t,
			    t->buf, cap);
	if (rc < 0) {
		if (t->map_len > 0)
			munmap((void *)t->src, t->map_len);
		goto fail;
	}
	/* Ownership of *f has moved here. */
	t->next = s->head;
	if (s->head != NULL)
		s->head->prev = t;
	s->head = t;
	s->n_transfers++;
	*out = t;
	return 0;
fail:
	if (t->ev != NULL)
		event_free(t->ev);
	if (t->sev != NULL)
		event_free(t->sev);
	if (t->timer != NULL)
		event_free(t->timer);
	if (t->fd >= 0)
		close(t->fd);
	if (t->sfd >= 0)
		close(t->sfd);
	free(t);
	return rc;
}

/* What tftp_evict_unanswered did. */
enum tftp_evict {
	TFTP_EVICT_NONE,  /* every transfer has been answered: the table is busy */
	TFTP_EVICT_WAIT,  /* unanswered ones, all too young to end (tftp_xfer_evictable) */
	TFTP_EVICT_ENDED, /* one ended: there is room */
};

/*
 * The table is full: the oldest transfer whose client never answered its
 * first packet (a spoofed or lost request), once older than a retransmission
 * timeout, makes room for a new one. The list is newest first, so the last
 * unanswered transfer is the oldest: if it is too young, all are.
 */
static enum tftp_evict tftp_evict_unanswered(struct tftp_server *s)
{
	uint8_t peek;

	for (int tries = 0; tries < TFTP_EVICT_PEEKS; tries++) {
		struct tftp_transfer *victim = NULL;

		for (struct tftp_transfer *t = s->head; t != NULL; t = t->next)
			if (!t->x.answered)
				victim = t;
		if (victim == NULL)
			return TFTP_EVICT_NONE;
		if (!tftp_xfer_evictable(&victim->x, victim->start_us, now_mono_us()))
			return TFTP_EVICT_WAIT;
		/*
		 * Its client's first ACK may be waiting in the socket, unread
		 * because a burst of requests came first: read it, then choose
		 * again (the transfer is answered now, or it ended).
		 */
		if (recv(victim->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) >= 0 ||
		    /* an ICMP error reported (and cleared) first: look again */
		    (errno == ECONNREFUSED &&
		     recv(victim->fd, &peek, 1, MSG_PEEK | MSG_DONTWAIT) >= 0)) {
			tftp_transfer_read_cb(victim->fd, EV_READ, victim);
			continue;
		}
		victim->evicted = true;
		tftp_transfer_step(victim, &(struct tftp_xfer_event){.kind = TFTP_XEV_EVICT});
		return TFTP_EVICT_ENDED;
	}
	return TFTP_EVICT_NONE;
}

static unsigned tftp_client_transfers(const struct tftp_server *s, uint32_t ip)
{
	unsigned n = 0;

	for (const struct tftp_transfer *t = s->head; t != NULL; t = t->next)
		n += t->client_ip == ip;
	return n;
}

/*
 * The MTU of the interface a request came in on, or 0 when unknown. Asked
 * of the kernel at most once per TFTP_MTU_TTL_US per interface: a storm of
 * requests costs no extra system calls.
 */
static unsigned tftp_if_mtu(struct tftp_server *s, unsigned ifindex)
{
	uint64_t now = now_mono_us();
	struct ifreq ifr;
	unsigned slot = ifindex % TFTP_MTU_CACHE;

	if (ifindex == 0)
		return 0;
	if (s->mtu_cache[slot].ifindex == ifindex &&
	    now - s->mtu_cache[slot].at_us < TFTP_MTU_TTL_US)
		return s->mtu_cache[slot].mtu;
	memset(&ifr, 0, sizeof(ifr));
	if (if_indextoname(ifindex, ifr.ifr_name) == NULL || ioctl(s->fd, SIOCGIFMTU, &ifr) < 0)
		return 0;
	s->mtu_cache[slot].ifindex = ifindex;
	s->mtu_cache[slot].mtu = ifr.ifr_mtu > 0 ? (unsigned)ifr.ifr_mtu : 0;
	s->mtu_cache[slot].at_us = now;
	return s->mtu_cache[slot].mtu;
}

/*
 * RFC 2348 lets the server answer a smaller blksize: a DATA packet (IP 20 +
 * UDP 8 + TFTP 4 bytes of headers) must fit the link it leaves on, or it
 * would be fragmented, and one lost fragment loses the block. Unknown MTU:
 * the RFC's largest.
 */
static uint16_t tftp_max_blksize(unsigned mtu)
{
	if (mtu == 0 || mtu >= TFTP_BLKSIZE_MAX + 32u)
		return TFTP_BLKSIZE_MAX;
	if (mtu < TFTP_BLKSIZE_MIN + 32u)
		return TFTP_BLKSIZE_MIN;
	return (uint16_t)(mtu - 32u);
}

/* vfs_open's refusals as TFTP errors (RFC 1350 appendix). */
static void tftp_open_error(int rc, uint16_t *code, const char **msg)
{
	switch (rc) {
	case -ENOENT:
		*code = TFTP_ERR_NOTFOUND;
		*msg = "file not found";
		break;
	case -EACCES:
		*code = TFTP_ERR_ACCESS;
		*msg = "access violation";
		break;
	case -EINVAL:
		*code = TFTP_ERR_ACCESS;
		*msg = "invalid file name";
		break;
	default:
		*code = TFTP_ERR_UNDEF;
		*msg = "cannot open file";
		break;
	}
}

/*
 * A refused file is a timeline event too ("refused"), with the root it was
 * looked for under; obs keeps one per path and a few per boot session.
 */
static void tftp_report_refusal(struct tftp_server *s, uint32_t ip, const char *path,
				const char *msg)
{
	const char *root = s->d->conf->tftp_root;
	char detail[400];

	if (s->d->obs == NULL)
		return;
	snprintf(detail, sizeof(detail), "%s: %s%s%s", path, msg,
		 root != NULL ? " under " : ", no tftp.root", root != NULL ? root : "");
	obs_event(
	    s->d->obs,
	    &(struct obs_event){
		.ip = ip, .proto = "tftp", .kind = "refused", .detail = detail, .file = path});
}

static int tftp_open_file(struct tftp_server *s, const struct tftp_req *req,
			  const struct udp_meta *m, const char *path, struct vfs_file *f)
{
	uint32_t ip = ntohl(m->peer.sin_addr.s_addr);
	struct vfs_client client = {.ip = ip,
				    .server_ip = m->local_ip,
				    .states = s->d->states,
				    .facts = obs_facts_of_requester,
				    .facts_ctx = s->d};
	char ipbuf[16];
	const char *msg;
	uint16_t code;
	int rc;

	memset(f, 0, sizeof(*f));
	f->fd = -1;
	rc = vfs_open(s->d->conf, VFS_ROOT_TFTP, req->filename, &client, f);
	if (rc == 0)
		return 0;
	/*
	 * A refusal is not a transfer: no timeline event (pxelinux alone probes a
	 * dozen missing config files per boot), one line at info.
	 */
	tftp_open_error(rc, &code, &msg);
	tftp_send_error(s, s->fd, &m->peer, tftp_reply_src(s, m->local_ip), code, msg);
	log_info("tftp", "%s: RRQ %s refused: %s", ip4_format(ipbuf, ip), path, msg);
	tftp_report_refusal(s, ip, path, msg);
	return rc;
}

/* The status view's entry for a new transfer (obs/live.h). */
static void tftp_transfer_show(struct tftp_server *s, struct tftp_transfer *t)
{
	struct obs_transfer o = {.ip = t->client_ip,
				 .size = t->x.p.mode == TFTP_MODE_NETASCII ? 0 : t->file.size,
				 .start_us = (uint64_t)now_wall_us(),
				 .blksize = t->x.p.blksize,
				 .windowsize = t->x.p.windowsize};

	if (s->d->live == NULL)
		return;
	snprintf(o.proto, sizeof(o.proto), "tftp");
	snprintf(o.path, sizeof(o.path), "%.*s", (int)sizeof(o.path) - 1, t->path);
	snprintf(o.what, sizeof(o.what), "%s", t->file.what != NULL ? t->file.what : "file");
	o.has_mac = s->d->obs != NULL && obs_lookup(s->d->obs, t->client_ip, o.mac);
	t->live_id = obs_transfer_begin(s->d->live, &o);
}

/* Accepts an RRQ: caps, file, negotiation (RFC 2347), then the first packet. */
static void tftp_start_transfer(struct tftp_server *s, const struct tftp_req *req,
				const struct udp_meta *m)
{
	uint32_t ip = ntohl(m->peer.sin_addr.s_addr), src = tftp_reply_src(s, m->local_ip);
	char path[TFTP_LOG_PATH_MAX], ipbuf[16];
	struct tftp_xfer_params p;
	struct tftp_transfer *t = NULL;
	struct vfs_file f;
	unsigned mtu;

	log_escape(path, sizeof(path), req->filename, req->filename_len);
	if (s->n_transfers >= s->d->conf->tftp_max_transfers &&
	    tftp_evict_unanswered(s) == TFTP_EVICT_WAIT) {
		/*
		 * Full of transfers that may still be answered: no ERROR (the
		 * client retries after its timeout, when there may be room, and
		 * the request may be spoofed), only the count.
		 */
		metric_inc(&s->d->metrics, METRIC_TFTP_REFUSED_BUSY);
		return;
	}
	if (s->n_transfers >= s->d->conf->tftp_max_transfers ||
	    tftp_client_transfers(s, ip) >= s->d->conf->tftp_max_per_client) {
		/* Logged at 1, 2, 4, 8... refusals: visible, but a flood cannot flood the log. */
		s->refused_busy++;
		metric_inc(&s->d->metrics, METRIC_TFTP_REFUSED_BUSY);
		if ((s->refused_busy & (s->refused_busy - 1)) == 0)
			log_warn("tftp", "%s: refused %s: too many transfers (%" PRIu64 " so far)",
				 ip4_format(ipbuf, ip), path, s->refused_busy);
		tftp_send_error(s, s->fd, &m->peer, src, TFTP_ERR_UNDEF, "too many transfers");
		return;
	}
	if (tftp_open_file(s, req, m, path, &f) < 0)
		return;
	mtu = tftp_if_mtu(s, m->ifindex);
	if (tftp_xfer_negotiate(&req->opts, req->mode, f.size, tftp_max_blksize(mtu), &p) < 0 ||
	    tftp_transfer_new(s, &p, m, &f, mtu != 0, &t) < 0) {
		log_warn("tftp", "%s: cannot start a transfer of %s", ip4_format(ipbuf, ip), path);
		tftp_send_error(s, s->fd, &m->peer, src, TFTP_ERR_UNDEF, "out of resources");
		vfs_file_close(&f);
		return;
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	tftp_transfer_show(s, t);
	metric_inc(&s->d->metrics, METRIC_TFTP_STARTED);
	log_debug("tftp", "%s: RRQ %s blksize=%u windowsize=%u size=%" PRIu64,
		  ip4_format(ipbuf, ip), path, p.blksize, p.windowsize, f.size);
	tftp_transfer_step(t, &(struct tftp_xfer_event){.kind = TFTP_XEV_START});
}

/*
 * tftp.rate_per_address: a request over it is dropped without an answer (an
 * ERROR to a spoofed source would make pxed a reflector) and counted.
 */
static bool tftp_within_rate(struct tftp_server *s, const struct udp_meta *m)
{
	char ipbuf[16];

	if (ratelimit_allow(s->rl_addr, &m->peer.sin_addr.s_addr, 4, now_mono_us()))
		return true;
	metric_inc(&s->d->metrics, METRIC_TFTP_RATE_LIMITED);
	s->rate_limited++;
	if ((s->rate_limited & (s->rate_limited - 1)) == 0)
		log_warn("tftp",
			 "%s: over tftp.rate_per_address, request dropped (%" PRIu64 " so far)",
			 ip4_format(ipbuf, ntohl(m->peer.sin_addr.s_addr)), s->rate_limited);
	return false;
}

/*
 * A datagram on port 69. Only RRQs start anything; WRQs are refused (writes
 * are off); everything malformed is counted and, when it looks like a TFTP
 * request, answered so the client stops retrying.
 */
static void tftp_handle_request(struct tftp_server *s, const uint8_t *pkt, size_t len,
				const struct udp_meta *m)
{
	uint32_t src = tftp_reply_src(s, m->local_ip);
	struct metrics *mt = &s->d->metrics;
	struct tftp_msg msg;
	struct tftp_req req;
	char ipbuf[16];

	if (tftp_decode_msg(pkt, len, &msg) < 0) {
		metric_inc(mt, METRIC_TFTP_BAD);
		if (len >= 4) /* an unknown opcode: RFC 1350 error 4 */
			tftp_send_error(s, s->fd, &m->peer, src, TFTP_ERR_BADOP,
					"illegal operation");
		return;
	}
	if ((msg.opcode == TFTP_RRQ || msg.opcode == TFTP_WRQ) && !tftp_within_rate(s, m))
		return;
	if (msg.opcode == TFTP_WRQ) {
		/* Uploads: ERROR 2 unless tftp.upload_dir is set (tftp/upload.c). */
		tftp_upload_request(s->d, s->fd, pkt, len, m, src);
		return;
	}
	if (msg.opcode != TFTP_RRQ) {
		metric_inc(mt, METRIC_TFTP_BAD); /* DATA/ACK/ERROR/OACK to port 69: stray */
		return;
	}
	if (tftp_decode_req(pkt, len, &req) < 0) {
		metric_inc(mt, METRIC_TFTP_BAD);
		log_info("tftp", "%s: bad RRQ: %s",
			 ip4_format(ipbuf, ntohl(m->peer.sin_addr.s_addr)), req.err_msg);
		tftp_send_error(s, s->fd, &m->peer, src, req.err_code, req.err_msg);
		return;
	}
	tftp_start_transfer(s, &req, m);
}

static void tftp_listener_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_server *s = arg;
	uint8_t pkt[TFTP_RX_MAX];
	struct udp_meta m;

	for (int i = 0; i < TFTP_RX_BURST; i++) {
		ssize_t n = udp_recv(fd, pkt, sizeof(pkt), &m);
		if (n < 0 && n != -EMSGSIZE)
			return; /* -EAGAIN: drained */
		metric_inc(&s->d->metrics, METRIC_TFTP_RX);
		if (n < 0) {
			metric_inc(&s->d->metrics, METRIC_TFTP_BAD); /* oversized */
			continue;
		}
		tftp_handle_request(s, pkt, (size_t)n, &m);
	}
}

int tftp_server_start(struct pxed *d, uint32_t ip, uint16_t port, struct tftp_server **out)
{
	struct tftp_server *s = calloc(1, sizeof(*s));
	char ipbuf[16];

	if (s == NULL)
		return -ENOMEM;
	s->d = d;
	s->bind_ip = ip;
	if (ratelimit_from_conf(TFTP_RL_ADDRESSES, d->conf->tftp_rate_per_address, &s->rl_addr) <
	    0) {
		free(s);
		return -ENOMEM;
	}
	/* A rack powering on sends its RRQs at once: room for a thousand of them. */
	s->fd = udp_open(ip, port, NULL, UDP_BIGBUF);
	if (s->fd < 0) {
		int rc = s->fd;
		ratelimit_free(s->rl_addr);
		free(s);
		return rc;
	}
	s->ev = event_new(d->base, s->fd, EV_READ | EV_PERSIST, tftp_listener_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) < 0) {
		if (s->ev != NULL)
			event_free(s->ev);
		close(s->fd);
		ratelimit_free(s->rl_addr);
		free(s);
		return -ENOMEM;
	}
	log_info("tftp", "listening on %s:%u", ip4_format(ipbuf, ip), port);
	*out = s;
	return 0;
}

void tftp_server_stop(struct tftp_server *s)
{
	if (s == NULL)
		return;
	/* Each abort tells the client (ERROR 0) and reports the transfer as failed. */
	while (s->head != NULL)
		tftp_transfer_step(s->head, &(struct tftp_xfer_event){.kind = TFTP_XEV_ABORT});
	tftp_upload_stop(s->d);
	if (s->refused_busy > 0)
		log_info("tftp", "%" PRIu64 " requests refused: too many transfers",
			 s->refused_busy);
	event_free(s->ev);
	close(s->fd);
	ratelimit_free(s->rl_addr);
	free(s);
}
