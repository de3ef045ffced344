/*
 * The TFTP server on libevent: one listener socket (port 69) for requests,
 * and per RRQ a transfer object with its own UDP socket (RFC 1350: the new
 * socket's port is the server's transfer ID), one read event and one timer.
 * The protocol itself lives in wire.c (codec) and xfer.c (state machine).
 */
#include "tftp/server.h"

#include "boot/vfs.h"
#include "core/log.h"
#include "core/udp.h"
#include "core/util.h"
#include "obs/metrics.h"
#include "obs/obs.h"
#include "pxed.h"
#include "tftp/wire.h"
#include "tftp/xfer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Limits: a flood of RRQs costs at most this many sockets and buffers. */
#define TFTP_MAX_TRANSFERS 1024
#define TFTP_MAX_PER_CLIENT 32
/* Largest datagram we read: any sane RRQ or client packet is far smaller. */
#define TFTP_RX_MAX 4096
/* Datagrams handled per wake-up, so one busy socket cannot starve the rest. */
#define TFTP_RX_BURST 64
/* The escaped file name kept for logs and the timeline. */
#define TFTP_LOG_PATH_MAX 200

struct tftp_transfer;

struct tftp_server {
	struct pxed *d;
	int fd;
	uint32_t bind_ip;
	struct event *ev;
	struct tftp_transfer *head; /* live transfers, owned by the server */
	unsigned n_transfers;
	uint64_t refused_busy;
};

/* One allocation per transfer: the object and its packet buffer behind it. */
struct tftp_transfer {
	struct tftp_server *srv;
	struct tftp_transfer *prev, *next;
	int fd;
	struct event *ev, *timer;
	uint64_t armed_us;  /* deadline the timer is set for; 0 = none */
	uint32_t client_ip; /* host order */
	uint16_t client_port;
	struct vfs_file file; /* owned from tftp_transfer_new() until tftp_transfer_free() */
	char path[TFTP_LOG_PATH_MAX];
	uint64_t start_us;
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

	return udp_send(t->fd, pkt, len, t->client_ip, t->client_port, 0, 0);
}

static const struct tftp_xfer_ops tftp_transfer_ops = {
    .read = tftp_transfer_read,
    .send = tftp_transfer_send,
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
	if (t->timer != NULL)
		event_free(t->timer);
	if (t->fd >= 0)
		close(t->fd);
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

static void tftp_report(struct pxed *d, uint32_t ip, const char *detail, uint64_t bytes,
			uint64_t duration_us, bool ok, bool client_abort)
{
	char ipbuf[16];

	if (d->obs != NULL) {
		obs_event(d->obs, &(struct obs_event){.mac = NULL,
						      .ip = ip,
						      .proto = "tftp",
						      .kind = "transfer",
						      .detail = detail,
						      .bytes = bytes,
						      .duration_us = duration_us,
						      .ok = ok,
						      .expected = client_abort});
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
	if (t->x.error_sent)
		metric_inc(&d->metrics, METRIC_TFTP_ERROR_SENT);
	/* A client that ends a transfer itself chose to: EDK2 does after its tsize probe. */
	tftp_report(d, t->client_ip, detail, t->x.bytes_sent, now_mono_us() - t->start_us, ok,
		    t->x.client_error);
	tftp_transfer_free(t);
}

/* Runs one event through the state machine; true when t is gone. */
static bool tftp_transfer_step(struct tftp_transfer *t, const struct tftp_xfer_event *ev)
{
	uint64_t now = now_mono_us(), deadline;

	tftp_xfer_step(&t->x, ev, now, &deadline);
	if (tftp_xfer_ended(&t->x)) {
		tftp_transfer_end(t);
		return true;
	}
	if (deadline != t->armed_us) {
		uint64_t in = deadline > now ? deadline - now : 0;
		struct timeval tv = {.tv_sec = (time_t)(in / 1000000),
				     .tv_usec = (suseconds_t)(in % 1000000)};
		evtimer_add(t->timer, &tv);
		t->armed_us = deadline;
	}
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
static void tftp_transfer_stranger(struct tftp_transfer *t, const uint8_t *pkt, ssize_t n,
				   const struct udp_meta *m)
{
	struct tftp_msg msg;

	if (n >= 0 && tftp_decode_msg(pkt, (size_t)n, &msg) == 0 && msg.opcode == TFTP_ERROR)
		return;
	tftp_send_error(t->srv, t->fd, &m->peer, 0, TFTP_ERR_BADID, "unknown transfer ID");
}

static bool tftp_transfer_is_client(const struct tftp_transfer *t, const struct udp_meta *m)
{
	return ntohl(m->peer.sin_addr.s_addr) == t->client_ip &&
	       ntohs(m->peer.sin_port) == t->client_port;
}

static void tftp_transfer_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_transfer *t = arg;
	struct metrics *mt = &t->srv->d->metrics;
	uint8_t pkt[TFTP_RX_MAX];
	struct udp_meta m;
	struct tftp_msg msg;

	for (int i = 0; i < TFTP_RX_BURST; i++) {
		ssize_t n = udp_recv(fd, pkt, sizeof(pkt), &m);
		if (n < 0 && n != -EMSGSIZE)
			return; /* -EAGAIN: drained; anything else: try on the next wake-up */
		metric_inc(mt, METRIC_TFTP_RX);
		if (!tftp_transfer_is_client(t, &m)) {
			tftp_transfer_stranger(t, pkt, n, &m);
			continue;
		}
		if (n < 0 || tftp_decode_msg(pkt, (size_t)n, &msg) < 0) {
			metric_inc(mt, METRIC_TFTP_BAD);
			continue;
		}
		if (tftp_transfer_step(
			t, &(struct tftp_xfer_event){.kind = TFTP_XEV_PACKET, .msg = &msg}))
			return; /* ended and freed */
	}
}

/*
 * Creates the transfer with its socket bound to the address the RRQ reached
 * (so replies leave from the address the client talked to), its read event
 * and its timer. Takes ownership of *f only on success.
 */
static int tftp_transfer_new(struct tftp_server *s, const struct tftp_xfer_params *p,
			     const struct udp_meta *m, struct vfs_file *f,
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
	t->fd = udp_open(tftp_reply_src(s, m->local_ip), 0, NULL, 0);
	if (t->fd < 0) {
		rc = t->fd;
		goto fail;
	}
	t->ev = event_new(s->d->base, t->fd, EV_READ | EV_PERSIST, tftp_transfer_read_cb, t);
	t->timer = evtimer_new(s->d->base, tftp_transfer_timer_cb, t);
	if (t->ev == NULL || t->timer == NULL || event_add(t->ev, NULL) < 0)
		goto fail;
	rc = tftp_xfer_init(&t->x, p, &tftp_transfer_ops, t, t->buf, cap);
	if (rc < 0)
		goto fail;
	t->file = *f; /* ownership moves here */
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
	if (t->timer != NULL)
		event_free(t->timer);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	return rc;
}

static unsigned tftp_client_transfers(const struct tftp_server *s, uint32_t ip)
{
	unsigned n = 0;

	for (const struct tftp_transfer *t = s->head; t != NULL; t = t->next)
		n += t->client_ip == ip;
	return n;
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

static int tftp_open_file(struct tftp_server *s, const struct tftp_req *req,
			  const struct udp_meta *m, const char *path, struct vfs_file *f)
{
	uint32_t ip = ntohl(m->peer.sin_addr.s_addr);
	struct vfs_client client = {.mac = NULL, .ip = ip, .server_ip = m->local_ip};
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
	return rc;
}

/* Accepts an RRQ: caps, file, negotiation (RFC 2347), then the first packet. */
static void tftp_start_transfer(struct tftp_server *s, const struct tftp_req *req,
				const struct udp_meta *m)
{
	uint32_t ip = ntohl(m->peer.sin_addr.s_addr), src = tftp_reply_src(s, m->local_ip);
	char path[TFTP_LOG_PATH_MAX], ipbuf[16];
	struct tftp_xfer_params p;
	struct tftp_transfer *t;
	struct vfs_file f;

	log_escape(path, sizeof(path), req->filename, req->filename_len);
	if (s->n_transfers >= TFTP_MAX_TRANSFERS ||
	    tftp_client_transfers(s, ip) >= TFTP_MAX_PER_CLIENT) {
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
	if (tftp_xfer_negotiate(&req->opts, req->mode, f.size, TFTP_BLKSIZE_MAX, &p) < 0 ||
	    tftp_transfer_new(s, &p, m, &f, &t) < 0) {
		log_warn("tftp", "%s: cannot start a transfer of %s", ip4_format(ipbuf, ip), path);
		tftp_send_error(s, s->fd, &m->peer, src, TFTP_ERR_UNDEF, "out of resources");
		vfs_file_close(&f);
		return;
	}
	snprintf(t->path, sizeof(t->path), "%s", path);
	metric_inc(&s->d->metrics, METRIC_TFTP_STARTED);
	log_debug("tftp", "%s: RRQ %s blksize=%u windowsize=%u size=%" PRIu64,
		  ip4_format(ipbuf, ip), path, p.blksize, p.windowsize, f.size);
	tftp_transfer_step(t, &(struct tftp_xfer_event){.kind = TFTP_XEV_START});
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
	if (msg.opcode == TFTP_WRQ) {
		log_info("tftp", "%s: WRQ refused",
			 ip4_format(ipbuf, ntohl(m->peer.sin_addr.s_addr)));
		tftp_send_error(s, s->fd, &m->peer, src, TFTP_ERR_ACCESS, "writes are disabled");
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
	s->fd = udp_open(ip, port, NULL, 0);
	if (s->fd < 0) {
		int rc = s->fd;
		free(s);
		return rc;
	}
	s->ev = event_new(d->base, s->fd, EV_READ | EV_PERSIST, tftp_listener_cb, s);
	if (s->ev == NULL || event_add(s->ev, NULL) < 0) {
		if (s->ev != NULL)
			event_free(s->ev);
		close(s->fd);
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
	if (s->refused_busy > 0)
		log_info("tftp", "%" PRIu64 " requests refused: too many transfers",
			 s->refused_busy);
	event_free(s->ev);
	close(s->fd);
	free(s);
}
