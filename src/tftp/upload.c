/*
 * TFTP uploads: the libevent glue and the files around wxfer.c's state
 * machine. See upload.h for what is refused and why.
 *
 * Where the bytes go: the WRQ's file name is normalised like a read's
 * (vfs_normalise: "..", control characters and empty names refused,
 * backslashes are separators, a leading '/' is the upload directory). Its
 * directory part is opened beneath tftp.upload_dir with openat2(
 * RESOLVE_BENEATH), so neither ".." nor a symlink leads out; it must exist.
 * The data goes to an O_TMPFILE file there (or, where the file system has
 * none, to a dot-name made with O_EXCL), which is fsynced, linked under a
 * temporary name and renamed over the target only after the last block.
 * Temporary names are ".pxed-upload." and 64 random bits, tried again on
 * EEXIST; those a crash left at the top of upload_dir are removed when the
 * first WRQ arrives (tftp_upload_sweep).
 */
#include "tftp/timer.h"
#include "tftp/upload.h"

#include "boot/vfs.h"
#include "conf/config.h"
#include "core/log.h"
#include "core/udp.h"
#include "core/util.h"
#include "obs/metrics.h"
#include "obs/obs.h"
#include "pxed.h"
#include "tftp/wire.h"
#include "tftp/wxfer.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Datagrams handled per wake-up, so one busy socket cannot starve the rest. */
#define TFTP_UPLOAD_RX_BURST 64
/* The escaped file name kept for logs and the timeline. */
#define TFTP_UPLOAD_LOG_PATH_MAX 200
/* Temporary names start with this; a client may not upload a file so named. */
#define TFTP_UPLOAD_TMP_PREFIX ".pxed-upload."
/* ".pxed-upload.<16 hex digits>" */
#define TFTP_UPLOAD_TMP_MAX 48
/* Fresh names tried when one is taken: past a few, something else is wrong. */
#define TFTP_UPLOAD_TMP_TRIES 8

struct tftp_upload;

/* Every upload of the daemon; owned by struct pxed (d->uploads). */
struct tftp_uploads {
	struct pxed *d;
	struct tftp_upload *head; /* newest first */
	unsigned n_active;	  /* not yet stored: what the caps count */
	unsigned n_dally;	  /* stored, still answering a repeated last DATA */
	uint64_t refused_busy;
	uint64_t tmp_seq; /* only when getrandom() has nothing yet */
};

/* One allocation per upload: the object and its receive buffer behind it. */
struct tftp_upload {
	struct tftp_uploads *u;
	struct tftp_upload *prev, *next;
	int fd; /* our socket: its port is our TID */
	struct event *ev, *timer;
	uint64_t armed_us;  /* deadline the timer is set for; 0 = none */
	uint32_t client_ip; /* host order */
	uint16_t client_port;
	int dirfd;			      /* O_PATH: the directory the file lands in */
	int filefd;			      /* the temporary file; -1 once stored */
	char tmp[TFTP_UPLOAD_TMP_MAX];	      /* its name in dirfd; "" while unnamed (O_TMPFILE) */
	char name[NAME_MAX + 1];	      /* the target's name in dirfd */
	char path[TFTP_UPLOAD_LOG_PATH_MAX];  /* escaped, for logs */
	char wrq_name[TFTP_FILENAME_MAX + 1]; /* the file name of the WRQ, as sent */
	uint64_t start_us;
	bool completed; /* counted in n_dally rather than n_active */
	struct tftp_wxfer x;
	size_t rx_cap;
	uint8_t rx[]; /* tftp_wxfer_rx_size() + 1 bytes: one more shows an oversized DATA */
};

static void tftp_upload_send_error(struct pxed *d, int fd, const struct sockaddr_in *to,
				   uint32_t src_ip, uint16_t code, const char *msg)
{
	uint8_t pkt[TFTP_CTRL_MAX];
	int len = tftp_encode_error(pkt, sizeof(pkt), code, msg);

	if (len < 0 || to->sin_port == 0)
		return;
	if (udp_send(fd, pkt, (size_t)len, ntohl(to->sin_addr.s_addr), ntohs(to->sin_port), 0,
		     src_ip) == 0)
		metric_inc(&d->metrics, METRIC_TFTP_ERROR_SENT);
}

/* --- the file ---------------------------------------------------------- */

static ssize_t tftp_upload_write(void *ctx, uint64_t off, const void *data, size_t n)
{
	struct tftp_upload *t = ctx;
	size_t done = 0;

	while (done < n) {
		ssize_t w =
		    pwrite(t->filefd, (const uint8_t *)data + done, n - done, (off_t)(off + done));
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	return (ssize_t)n;
}

/*
 * A fresh temporary name: 64 random bits, so that neither a stale file a
 * crash left nor a restarted daemon with the same pid (a container's pid 1)
 * can hold it. Before the kernel's pool is ready getrandom() would block:
 * then the clock, the pid and a counter, and the callers try again on EEXIST.
 */
static void tftp_upload_tmp_name(struct tftp_upload *t)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
		r = now_mono_us() ^ ((uint64_t)getpid() << 40) ^
		    (++t->u->tmp_seq * 0x9e3779b97f4a7c15ull);
	snprintf(t->tmp, sizeof(t->tmp), TFTP_UPLOAD_TMP_PREFIX "%016" PRIx64, r);
}

/*
 * Opens the temporary file in dirfd: unnamed (O_TMPFILE) when the file
 * system can, so even a crash leaves nothing; else a fresh dot-name.
 */
static int tftp_upload_tmp_open(struct tftp_upload *t)
{
	int rc = -EEXIST;

	t->tmp[0] = '\0';
	t->filefd = openat(t->dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
	if (t->filefd >= 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	for (int i = 0; i < TFTP_UPLOAD_TMP_TRIES && rc == -EEXIST; i++) {
		tftp_upload_tmp_name(t);
		t->filefd = openat(t->dirfd, t->tmp,
				   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (t->filefd >= 0)
			return 0;
		rc = -errno;
	}
	t->tmp[0] = '\0';
	return rc;
}

/*
 * Gives the O_TMPFILE file a temporary name, from which renameat() replaces
 * the target atomically: linkat() never replaces, so it cannot go to the
 * target's name itself, and a temporary name that is taken (EEXIST) is
 * tried again with a fresh one.
 */
static int tftp_upload_tmp_link(struct tftp_upload *t)
{
	char proc[64];
	int rc = -EEXIST;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", t->filefd);
	for (int i = 0; i < TFTP_UPLOAD_TMP_TRIES && rc == -EEXIST; i++) {
		tftp_upload_tmp_name(t);
		if (linkat(t->filefd, "", t->dirfd, t->tmp, AT_EMPTY_PATH) == 0)
			return 0;
		rc = -errno;
		/* AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH; the /proc link does not. */
		if (rc == -EEXIST)
			continue;
		if (linkat(AT_FDCWD, proc, t->dirfd, t->tmp, AT_SYMLINK_FOLLOW) == 0)
			return 0;
		rc = -errno;
	}
	t->tmp[0] = '\0';
	return rc;
}

/*
 * Removes the temporary files a crashed or killed pxed left at the top of
 * upload_dir: dot-names of the fallback, and O_TMPFILE files caught between
 * their link and their rename. Done when the first WRQ arrives rather than
 * at start: upload_dir is touched only once uploads are used, and no upload
 * of ours exists yet, so none of ours goes. Only the top level: a walk of
 * the subdirectories could take long, and the rename leaves little there.
 * (Two daemons sharing one upload_dir would remove each other's.)
 */
static void tftp_upload_sweep(const char *dir)
{
	size_t plen = strlen(TFTP_UPLOAD_TMP_PREFIX);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	unsigned removed = 0;
	struct dirent *e;
	DIR *dp;

	if (fd < 0)
		return;
	dp = fdopendir(fd);
	if (dp == NULL) {
		close(fd);
		return;
	}
	/* unlinkat() without AT_REMOVEDIR leaves a directory so named alone. */
	while ((e = readdir(dp)) != NULL)
		if (strncmp(e->d_name, TFTP_UPLOAD_TMP_PREFIX, plen) == 0 &&
		    unlinkat(fd, e->d_name, 0) == 0)
			removed++;
	closedir(dp);
	if (removed > 0)
		log_info("tftp", "removed %u stale temporary upload file%s from %s", removed,
			 removed == 1 ? "" : "s", dir);
}

/* So the rename survives a power cut, as the data does (fsync before it). */
static void tftp_upload_sync_dir(struct tftp_upload *t)
{
	int fd = openat(t->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

/* The last block is written: fsync, name it, rename it over the target. */
static int tftp_upload_finish(void *ctx)
{
	struct tftp_upload *t = ctx;
	int rc;

	if (fsync(t->filefd) < 0)
		return -errno;
	if (t->tmp[0] == '\0' && (rc = tftp_upload_tmp_link(t)) < 0)
		return rc;
	if (renameat(t->dirfd, t->tmp, t->dirfd, t->name) < 0) {
		rc = -errno;
		unlinkat(t->dirfd, t->tmp, 0);
		t->tmp[0] = '\0';
		return rc;
	}
	t->tmp[0] = '\0';
	close(t->filefd);
	t->filefd = -1;
	tftp_upload_sync_dir(t);
	return 0;
}

static int tftp_upload_send(void *ctx, const void *pkt, size_t len)
{
	struct tftp_upload *t = ctx;

	return udp_send(t->fd, pkt, len, t->client_ip, t->client_port, 0, 0);
}

static const struct tftp_wxfer_ops tftp_upload_ops = {
    .write = tftp_upload_write,
    .finish = tftp_upload_finish,
    .send = tftp_upload_send,
};

/*
 * Opens the directory the normalised path norm names beneath root, and
 * splits off the file name. 0, -ENOENT (no such directory), -EACCES (out of
 * the root, through a symlink that leaves it, or a name we keep for
 * ourselves) or -ENAMETOOLONG.
 */
static int tftp_upload_open_dir(const char *root, char *norm, int *dirfd, const char **base)
{
	struct open_how how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	char *slash = strrchr(norm, '/');
	int rootfd, fd;

	*base = slash != NULL ? slash + 1 : norm;
	if (strlen(*base) > NAME_MAX)
		return -ENAMETOOLONG;
	if (strncmp(*base, TFTP_UPLOAD_TMP_PREFIX, strlen(TFTP_UPLOAD_TMP_PREFIX)) == 0)
		return -EACCES;
	rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return -ENOENT;
	if (slash == NULL) {
		*dirfd = rootfd;
		return 0;
	}
	*slash = '\0';
	fd = (int)syscall(SYS_openat2, rootfd, norm, &how, sizeof(how));
	*slash = '/';
	if (fd < 0) {
		int err = errno;
		close(rootfd);
		return err == ENOENT || err == ENOTDIR ? -ENOENT : -EACCES;
	}
	close(rootfd);
	*dirfd = fd;
	return 0;
}

/* An existing target must be a regular file: never a directory or a symlink. */
static int tftp_upload_check_target(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -EACCES;
	return S_ISREG(st.st_mode) ? 0 : -EACCES;
}

/* --- one upload -------------------------------------------------------- */

static void tftp_upload_free(struct tftp_upload *t)
{
	struct tftp_uploads *u = t->u;

	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		u->head = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	if (t->completed)
		u->n_dally--;
	else
		u->n_active--;
	if (t->ev != NULL)
		event_free(t->ev);
	if (t->timer != NULL)
		event_free(t->timer);
	if (t->fd >= 0)
		close(t->fd);
	/* Not stored: an O_TMPFILE file vanishes with its descriptor, a dot-name is removed. */
	if (t->filefd >= 0)
		close(t->filefd);
	if (t->tmp[0] != '\0')
		unlinkat(t->dirfd, t->tmp, 0);
	if (t->dirfd >= 0)
		close(t->dirfd);
	free(t);
}

/* "configs/sw1.cfg size=5120 blksize=1468 windowsize=8", then the outcome. */
static void tftp_upload_detail(const struct tftp_upload *t, char *out, size_t cap)
{
	const struct tftp_wxfer *x = &t->x;
	char msg[TFTP_ERRMSG_MAX * 4 + 1];
	int n;

	n = snprintf(out, cap, "%s size=%" PRIu64 " blksize=%u windowsize=%u%s", t->path,
		     x->file_off, x->p.blksize, x->p.windowsize,
		     x->p.mode == TFTP_MODE_NETASCII ? " netascii" : "");
	if (n < 0 || (size_t)n >= cap || tftp_wxfer_complete(x))
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

/* One timeline event per upload, when it is stored or has failed. */
static void tftp_upload_report(struct tftp_upload *t, uint64_t end_us)
{
	struct pxed *d = t->u->d;
	bool ok = tftp_wxfer_complete(&t->x);
	uint64_t bytes = t->x.file_off, duration = end_us - t->start_us;
	char detail[512], ipbuf[16];

	tftp_upload_detail(t, detail, sizeof(detail));
	if (d->obs != NULL) {
		obs_event(d->obs, &(struct obs_event){.mac = NULL,
						      .ip = t->client_ip,
						      .proto = "tftp",
						      .kind = "upload",
						      .detail = detail,
						      .bytes = bytes,
						      .duration_us = duration,
						      .ok = ok,
						      .expected = t->x.client_error});
		return;
	}
	log_info("tftp", "%s %s: %s, %" PRIu64 " bytes in %" PRIu64 " ms",
		 ip4_format(ipbuf, t->client_ip), ok ? "received" : "failed", detail, bytes,
		 duration / 1000);
}

/* The file is stored and the client has its last ACK: count it as done. */
static void tftp_upload_stored(struct tftp_upload *t)
{
	struct metrics *mt = &t->u->d->metrics;

	t->completed = true;
	t->u->n_active--;
	t->u->n_dally++;
	metric_inc(mt, METRIC_TFTP_UPLOAD_DONE);
	metric_add(mt, METRIC_TFTP_UPLOAD_BYTES, t->x.file_off);
	tftp_upload_report(t, t->x.complete_us);
}

/* The one close path: a failure is reported and counted; then everything is freed. */
static void tftp_upload_end(struct tftp_upload *t)
{
	struct metrics *mt = &t->u->d->metrics;

	if (t->x.state == TFTP_WS_FAILED) {
		metric_inc(mt, METRIC_TFTP_UPLOAD_FAILED);
		tftp_upload_report(t, now_mono_us());
	}
	metric_add(mt, METRIC_TFTP_RETRANSMITS, t->x.retransmits);
	if (t->x.error_sent)
		metric_inc(mt, METRIC_TFTP_ERROR_SENT);
	tftp_upload_free(t);
}

/* Runs one event through the state machine; true when t is gone. */
static bool tftp_upload_step(struct tftp_upload *t, const struct tftp_wxfer_event *ev)
{
	uint64_t now = now_mono_us(), deadline;

	tftp_wxfer_step(&t->x, ev, now, &deadline);
	if (!t->completed && tftp_wxfer_complete(&t->x))
		tftp_upload_stored(t);
	if (tftp_wxfer_ended(&t->x)) {
		tftp_upload_end(t);
		return true;
	}
	tftp_timer_set(t->timer, &t->armed_us, deadline, now, false);
	return false;
}

static void tftp_upload_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_upload *t = arg;

	t->armed_us = 0;
	tftp_upload_step(t, &(struct tftp_wxfer_event){.kind = TFTP_WEV_TIMEOUT});
}

static bool tftp_upload_is_client(const struct tftp_upload *t, const struct udp_meta *m)
{
	return ntohl(m->peer.sin_addr.s_addr) == t->client_ip &&
	       ntohs(m->peer.sin_port) == t->client_port;
}

/*
 * RFC 1350 section 4: a packet from any other address or port gets ERROR 5
 * and the upload goes on undisturbed. An ERROR is never answered.
 */
static void tftp_upload_stranger(struct tftp_upload *t, ssize_t n, const struct udp_meta *m)
{
	struct tftp_msg msg;

	if (n >= 0 && tftp_decode_msg(t->rx, (size_t)n, &msg) == 0 && msg.opcode == TFTP_ERROR)
		return;
	tftp_upload_send_error(t->u->d, t->fd, &m->peer, 0, TFTP_ERR_BADID, "unknown transfer ID");
}

static void tftp_upload_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tftp_upload *t = arg;
	struct metrics *mt = &t->u->d->metrics;
	struct udp_meta m;
	struct tftp_msg msg;

	for (int i = 0; i < TFTP_UPLOAD_RX_BURST; i++) {
		ssize_t n = udp_recv(fd, t->rx, t->rx_cap, &m);
		if (n < 0 && n != -EMSGSIZE)
			return; /* -EAGAIN: drained; anything else: try on the next wake-up */
		metric_inc(mt, METRIC_TFTP_RX);
		if (!tftp_upload_is_client(t, &m)) {
			tftp_upload_stranger(t, n, &m);
			continue;
		}
		if (n < 0 || tftp_decode_msg(t->rx, (size_t)n, &msg) < 0) {
			metric_inc(mt, METRIC_TFTP_BAD);
			continue;
		}
		if (tftp_upload_step(t, &(struct tftp_wxfer_event){.kind = TFTP_WEV_PACKET,
								   .pkt = t->rx,
								   .len = (size_t)n}))
			return; /* ended and freed */
	}
}

/*
 * Creates the upload: its socket bound to the address the WRQ reached (so
 * replies leave from the address the client talked to), read event, timer
 * and temporary file. Takes ownership of dirfd only on success.
 */
static int tftp_upload_new(struct tftp_uploads *u, const struct tftp_wxfer_params *p,
			   const struct udp_meta *m, uint32_t src_ip, int dirfd, const char *name,
			   struct tftp_upload **out)
{
	size_t cap = tftp_wxfer_rx_size(p) + 1;
	struct tftp_upload *t = calloc(1, sizeof(*t) + cap);
	int rc = -ENOMEM;

	if (t == NULL)
		return -ENOMEM;
	t->u = u;
	t->rx_cap = cap;
	t->dirfd = -1;
	t->filefd = -1;
	t->client_ip = ntohl(m->peer.sin_addr.s_addr);
	t->client_port = ntohs(m->peer.sin_port);
	t->start_us = now_mono_us();
	snprintf(t->name, sizeof(t->name), "%s", name);
	t->fd = udp_open(src_ip, 0, NULL, 0);
	if (t->fd < 0) {
		rc = t->fd;
		goto fail;
	}
	t->ev = event_new(u->d->base, t->fd, EV_READ | EV_PERSIST, tftp_upload_read_cb, t);
	t->timer = evtimer_new(u->d->base, tftp_upload_timer_cb, t);
	if (t->ev == NULL || t->timer == NULL || event_add(t->ev, NULL) < 0)
		goto fail;
	if ((rc = tftp_wxfer_init(&t->x, p, &tftp_upload_ops, t)) < 0)
		goto fail;
	t->dirfd = dirfd;
	if ((rc = tftp_upload_tmp_open(t)) < 0) {
		t->dirfd = -1; /* still the caller's */
		goto fail;
	}
	t->next = u->head;
	if (u->head != NULL)
		u->head->prev = t;
	u->head = t;
	u->n_active++;
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

/* --- the requests -------------------------------------------------------- */

struct tftp_wrq {
	struct pxed *d;
	int listen_fd;
	const struct udp_meta *m;
	uint32_t src_ip, ip;
	char path[TFTP_UPLOAD_LOG_PATH_MAX]; /* escaped, for logs */
};

static void tftp_upload_refuse(const struct tftp_wrq *w, uint16_t code, const char *msg,
			       const char *why)
{
	char ipbuf[16];

	log_info("tftp", "%s: WRQ %s refused: %s", ip4_format(ipbuf, w->ip), w->path, why);
	tftp_upload_send_error(w->d, w->listen_fd, &w->m->peer, w->src_ip, code, msg);
}

/* Created at the first WRQ, which sweeps upload_dir first (tftp_upload_sweep). */
static struct tftp_uploads *tftp_uploads_get(struct pxed *d)
{
	if (d->uploads == NULL) {
		d->uploads = calloc(1, sizeof(*d->uploads));
		if (d->uploads == NULL)
			return NULL;
		d->uploads->d = d;
		tftp_upload_sweep(d->conf->tftp_upload_dir);
	}
	return d->uploads;
}

/*
 * A WRQ from the address and port of an upload we hold is the same WRQ
 * again (the client did not hear our OACK or ACK 0, or the network
 * duplicated it), not a new upload. So is one that arrives late for an
 * upload already stored and lingering to re-ACK its last DATA: started
 * again, it would hold a slot until it timed out. A stored one matches
 * only for the same file name, so a client reusing its port for another
 * file is served.
 */
static bool tftp_upload_is_repeat(const struct tftp_uploads *u, const struct tftp_wrq *w,
				  const struct tftp_req *req)
{
	for (const struct tftp_upload *t = u->head; t != NULL; t = t->next)
		if (tftp_upload_is_client(t, w->m) &&
		    (!t->completed || strcmp(t->wrq_name, req->filename) == 0))
			return true;
	return false;
}

/* The caps; the oldest finished upload makes room when too many linger. */
static bool tftp_upload_has_room(struct tftp_uploads *u, uint32_t ip)
{
	struct tftp_upload *oldest = NULL;
	unsigned mine = 0;

	for (struct tftp_upload *t = u->head; t != NULL; t = t->next) {
		mine += !t->completed && t->client_ip == ip;
		if (t->completed)
			oldest = t;
	}
	if (u->n_active >= TFTP_UPLOAD_MAX || mine >= TFTP_UPLOAD_MAX_PER_CLIENT)
		return false;
	if (u->n_dally >= TFTP_UPLOAD_DALLY_MAX && oldest != NULL)
		tftp_upload_step(oldest, &(struct tftp_wxfer_event){.kind = TFTP_WEV_ABORT});
	return true;
}

static void tftp_upload_refuse_busy(struct tftp_uploads *u, const struct tftp_wrq *w)
{
	char ipbuf[16];

	/* Logged at 1, 2, 4, 8... refusals: visible, but a flood cannot flood the log. */
	u->refused_busy++;
	metric_inc(&w->d->metrics, METRIC_TFTP_REFUSED_BUSY);
	if ((u->refused_busy & (u->refused_busy - 1)) == 0)
		log_warn("tftp", "%s: WRQ %s refused: too many uploads (%" PRIu64 " so far)",
			 ip4_format(ipbuf, w->ip), w->path, u->refused_busy);
	tftp_upload_send_error(w->d, w->listen_fd, &w->m->peer, w->src_ip, TFTP_ERR_UNDEF,
			       "too many transfers");
}

/* Resolves the target beneath tftp.upload_dir: 0 with its directory and name, or refused. */
static int tftp_upload_resolve(const struct tftp_wrq *w, const struct tftp_req *req, char *norm,
			       int *dirfd, const char **base)
{
	int rc;

	memcpy(norm, req->filename, req->filename_len + 1);
	rc = vfs_normalise(norm);
	if (rc == 0)
		rc = tftp_upload_open_dir(w->d->conf->tftp_upload_dir, norm, dirfd, base);
	if (rc == 0 && (rc = tftp_upload_check_target(*dirfd, *base)) < 0)
		close(*dirfd);
	if (rc == -ENOENT)
		tftp_upload_refuse(w, TFTP_ERR_NOTFOUND, "directory not found",
				   "no such directory");
	else if (rc == -EINVAL || rc == -ENAMETOOLONG)
		tftp_upload_refuse(w, TFTP_ERR_ACCESS, "invalid file name", "invalid file name");
	else if (rc < 0)
		tftp_upload_refuse(w, TFTP_ERR_ACCESS, "access violation", "path not allowed");
	return rc;
}

/* A decoded WRQ with uploads on: caps, negotiation, path, then the first packet. */
static void tftp_upload_accept(struct tftp_uploads *u, const struct tftp_wrq *w,
			       const struct tftp_req *req)
{
	const struct conf *c = w->d->conf;
	char norm[TFTP_FILENAME_MAX + 1], ipbuf[16];
	struct tftp_wxfer_params p;
	struct tftp_upload *t;
	const char *base = NULL;
	int dirfd = -1;

	if (tftp_upload_is_repeat(u, w, req))
		return; /* the upload's timer sends the OACK or ACK 0 again, if still due */
	if (!tftp_upload_has_room(u, w->ip)) {
		tftp_upload_refuse_busy(u, w);
		return;
	}
	if (tftp_wxfer_negotiate(&req->opts, req->mode, TFTP_BLKSIZE_MAX, c->tftp_upload_max_bytes,
				 &p) < 0)
		return;
	/* RFC 2349: refused before anything is created; wxfer would say the same. */
	if (p.has_tsize && p.tsize > p.max_bytes) {
		tftp_upload_refuse(w, TFTP_ERR_DISKFULL, "disk full or allocation exceeded",
				   "announced size over tftp.upload_max_bytes");
		return;
	}
	if (tftp_upload_resolve(w, req, norm, &dirfd, &base) < 0)
		return;
	if (tftp_upload_new(u, &p, w->m, w->src_ip, dirfd, base, &t) < 0) {
		close(dirfd);
		log_warn("tftp", "%s: cannot start an upload of %s", ip4_format(ipbuf, w->ip),
			 w->path);
		tftp_upload_send_error(w->d, w->listen_fd, &w->m->peer, w->src_ip, TFTP_ERR_UNDEF,
				       "cannot store files");
		return;
	}
	snprintf(t->path, sizeof(t->path), "%s", w->path);
	snprintf(t->wrq_name, sizeof(t->wrq_name), "%s", req->filename);
	metric_inc(&w->d->metrics, METRIC_TFTP_UPLOAD_STARTED);
	log_debug("tftp", "%s: WRQ %s blksize=%u windowsize=%u%s", ip4_format(ipbuf, w->ip),
		  w->path, p.blksize, p.windowsize,
		  p.mode == TFTP_MODE_NETASCII ? " netascii" : "");
	tftp_upload_step(t, &(struct tftp_wxfer_event){.kind = TFTP_WEV_START});
}

void tftp_upload_request(struct pxed *d, int listen_fd, const uint8_t *pkt, size_t len,
			 const struct udp_meta *m, uint32_t src_ip)
{
	struct tftp_wrq w = {.d = d, .listen_fd = listen_fd, .m = m, .src_ip = src_ip};
	struct tftp_uploads *u;
	struct tftp_req req;
	int rc = tftp_decode_req(pkt, len, &req);
	const char *msg = rc < 0 ? req.err_msg : "malformed request";

	w.ip = ntohl(m->peer.sin_addr.s_addr);
	if (rc == 0)
		log_escape(w.path, sizeof(w.path), req.filename, req.filename_len);
	else
		snprintf(w.path, sizeof(w.path), "(malformed)");
	/* Off unless configured: every WRQ, well-formed or not, gets ERROR 2. */
	if (d->conf->tftp_upload_dir == NULL) {
		tftp_upload_refuse(&w, TFTP_ERR_ACCESS, "writes are disabled",
				   "writes are disabled");
		return;
	}
	if (rc < 0 || req.opcode != TFTP_WRQ) {
		metric_inc(&d->metrics, METRIC_TFTP_BAD);
		tftp_upload_refuse(&w, rc < 0 ? req.err_code : TFTP_ERR_BADOP, msg, msg);
		return;
	}
	if ((u = tftp_uploads_get(d)) == NULL) {
		tftp_upload_send_error(d, listen_fd, &m->peer, src_ip, TFTP_ERR_UNDEF,
				       "out of resources");
		return;
	}
	tftp_upload_accept(u, &w, &req);
}

void tftp_upload_stop(struct pxed *d)
{
	struct tftp_uploads *u = d->uploads;

	if (u == NULL)
		return;
	/* Each abort tells an unfinished upload's client (ERROR 0); no file is left. */
	while (u->head != NULL)
		tftp_upload_step(u->head, &(struct tftp_wxfer_event){.kind = TFTP_WEV_ABORT});
	if (u->refused_busy > 0)
		log_info("tftp", "%" PRIu64 " uploads refused: too many transfers",
			 u->refused_busy);
	free(u);
	d->uploads = NULL;
}
