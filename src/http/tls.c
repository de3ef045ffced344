#include "http/tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf/tlskey.h"
#include "core/log.h"
#include "core/util.h"
#include "pxed.h"

struct http_tls {
	struct pxed *d;
	SSL_CTX *ctx;
	uint64_t failed; /* handshakes failed so far: the log says the 1st, 2nd, 4th, 8th... */
};

/* pxed cut the connection itself (http_tls_bev_cut): SSL's app data points here. */
static const char tls_cut_mark;

static uint32_t tls_peer_ip(const SSL *ssl)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);

	if (getpeername(SSL_get_fd(ssl), (struct sockaddr *)&sa, &sl) == 0 &&
	    sa.sin_family == AF_INET)
		return ntohl(sa.sin_addr.s_addr);
	return 0;
}

/*
 * Every connection that ends its handshake other than by finishing it:
 * plain HTTP spoken to the TLS port, a client refusing our certificate, a
 * peer that leaves half-way. Counted, and logged at a falling rate like
 * http.rate_per_address's refusals: anyone may cause one.
 */
static void tls_handshake_failed(struct http_tls *t, const SSL *ssl)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = e != 0 ? ERR_reason_error_string(e) : NULL;
	char ips[16];

	metric_inc(&t->d->metrics, METRIC_HTTP_TLS_HANDSHAKE_FAILED);
	t->failed++;
	if ((t->failed & (t->failed - 1)) != 0)
		return;
	log_warn("http", "%s: TLS handshake failed: %s (%" PRIu64 " so far)",
		 ip4_format(ips, tls_peer_ip(ssl)), why != NULL ? why : "the connection ended",
		 t->failed);
}

/*
 * OpenSSL's state callback: a server handshake step returned; ret <= 0 may
 * be a failure. SSL_CB_ACCEPT_EXIT is two bits (SSL_ST_ACCEPT | SSL_CB_EXIT):
 * both must be set, or every accept-loop step would pass. A connection pxed
 * cut itself was counted where it was cut (a cap, the rate, a timeout).
 */
static void tls_on_info(const SSL *ssl, int where, int ret)
{
	if ((where & SSL_CB_ACCEPT_EXIT) != SSL_CB_ACCEPT_EXIT || ret > 0 ||
	    SSL_get_app_data(ssl) == &tls_cut_mark)
		return;
	int err = SSL_get_error(ssl, ret);
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
		return;
	tls_handshake_failed(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)), ssl);
}

/* OpenSSL's reason for the last error, or what, into why. */
static int tls_fail(char *why, size_t cap, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	const char *r = e != 0 ? ERR_reason_error_string(e) : NULL;

	snprintf(why, cap, "%s %s: %s", what, path, r != NULL ? r : "cannot be used");
	ERR_clear_error();
	return -EINVAL;
}

static int tls_ctx_setup(SSL_CTX *ctx, const char *cert, const char *key, char *why, size_t cap)
{
	/*
	 * TLS 1.2 at least; no compression (CRIME), no renegotiation (a cheap
	 * way to make a server burn CPU). A client that closes without
	 * close_notify has ended its connection, not broken it.
	 */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return tls_fail(why, cap, "TLS", "1.2");
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
				     SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_default_passwd_cb(ctx, conf_tls_no_passphrase);
	/* An idle connection gives its read and write buffers (~34 KiB) back. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_sess_set_cache_size(ctx, HTTP_TLS_SESSION_CACHE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
		return tls_fail(why, cap, "http.tls_cert", cert);
	EVP_PKEY *k = NULL;
	int rc = conf_tls_key_load(key, &k, why, cap);
	if (rc < 0)
		return rc == -ENOMEM ? rc : -EINVAL;
	rc = SSL_CTX_use_PrivateKey(ctx, k);
	EVP_PKEY_free(k);
	if (rc != 1 || SSL_CTX_check_private_key(ctx) != 1)
		return tls_fail(why, cap, "http.tls_key", key);
	SSL_CTX_set_info_callback(ctx, tls_on_info);
	return 0;
}

int http_tls_new(struct pxed *d, const char *cert, const char *key, struct http_tls **out,
		 char *why, size_t cap)
{
	struct http_tls *t = calloc(1, sizeof(*t));
	int rc;

	snprintf(why, cap, "out of memory");
	if (t == NULL)
		return -ENOMEM;
	t->d = d;
	/* Loads OpenSSL's configuration and providers now, while every file may be read. */
	t->ctx = SSL_CTX_new(TLS_server_method());
	if (t->ctx == NULL) {
		free(t);
		return -ENOMEM;
	}
	SSL_CTX_set_app_data(t->ctx, t);
	rc = tls_ctx_setup(t->ctx, cert, key, why, cap);
	if (rc < 0) {
		http_tls_free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void http_tls_free(struct http_tls *t)
{
	if (t == NULL)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

struct bufferevent *http_tls_bev_new(struct http_tls *t, struct event_base *base)
{
	SSL *ssl = SSL_new(t->ctx);
	struct bufferevent *bev;

	if (ssl == NULL)
		return NULL;
	/* From here the bufferevent owns ssl and, once evhttp gives it one, the socket. */
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		SSL_free(ssl);
		return NULL;
	}
	/* Clients close without close_notify (HTTP/1.1 says when a body ends): not an error. */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

bool http_tls_bev_is(struct bufferevent *bev)
{
	return bev != NULL && bufferevent_openssl_get_ssl(bev) != NULL;
}

void http_tls_bev_cut(struct bufferevent *bev)
{
	SSL *ssl = bev != NULL ? bufferevent_openssl_get_ssl(bev) : NULL;

	if (ssl != NULL)
		SSL_set_app_data(ssl, (void *)&tls_cut_mark);
}

struct http_tls_pump {
	struct bufferevent *bev; /* evhttp's: the pump lives no longer than its reply */
	struct evbuffer *out;
	struct evbuffer_cb_entry *watch;
	int fd;
	uint64_t next, left; /* the next offset to read, and the bytes still to queue */
	uint64_t queued;     /* body bytes queued so far */
};

/* Tops the output up to HTTP_TLS_PUMP_HIGH. 0, or -errno: a read failed or came short. */
static int pump_fill(struct http_tls_pump *p)
{
	size_t have = evbuffer_get_length(p->out);
	struct evbuffer_iovec v;

	while (p->left > 0 && have < HTTP_TLS_PUMP_HIGH) {
		size_t want = HTTP_TLS_PUMP_HIGH - have;
		if (want > p->left)
			want = (size_t)p->left;
		if (evbuffer_reserve_space(p->out, (ev_ssize_t)want, &v, 1) < 1)
			return -ENOMEM;
		ssize_t n =
		    pread(p->fd, v.iov_base, want < v.iov_len ? want : v.iov_len, (off_t)p->next);
		if (n <= 0)
			return n < 0 ? -errno : -EIO; /* the file shrank under us */
		v.iov_len = (size_t)n;
		if (evbuffer_commit_space(p->out, &v, 1) < 0)
			return -ENOMEM;
		p->next += (uint64_t)n;
		p->left -= (uint64_t)n;
		p->queued += (uint64_t)n;
		have += (size_t)n;
	}
	return 0;
}

/*
 * The socket took some: refill below the low mark. This callback was
 * added after the connection's own (http/conn.c), so it runs first
 * (libevent calls the newest first): the output is only seen empty once
 * the whole body is queued and sent.
 */
static void pump_on_output(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct http_tls_pump *p = arg;
	int rc;

	if (info->n_deleted == 0 || p->left == 0 || evbuffer_get_length(b) >= HTTP_TLS_PUMP_LOW)
		return;
	rc = pump_fill(p);
	if (rc < 0) {
		/* The client would wait for bytes that never come: it sees the end now. */
		log_warn("http", "HTTPS body: reading at offset %" PRIu64 ": %s", p->next,
			 strerror(-rc));
		p->left = 0;
		shutdown(bufferevent_getfd(p->bev), SHUT_RDWR);
	}
}

int http_tls_pump_start(struct bufferevent *bev, int fd, uint64_t first, uint64_t len,
			struct http_tls_pump **out)
{
	struct http_tls_pump *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL) {
		close(fd);
		return -ENOMEM;
	}
	*p = (struct http_tls_pump){
	    .bev = bev, .out = bufferevent_get_output(bev), .fd = fd, .next = first, .left = len};
	rc = pump_fill(p);
	if (rc == 0 && p->left > 0 &&
	    (p->watch = evbuffer_add_cb(p->out, pump_on_output, p)) == NULL)
		rc = -ENOMEM;
	if (rc < 0) {
		http_tls_pump_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

uint64_t http_tls_pump_queued(const struct http_tls_pump *p)
{
	return p->queued;
}

void http_tls_pump_free(struct http_tls_pump *p)
{
	if (p == NULL)
		return;
	if (p->watch != NULL)
		evbuffer_remove_cb_entry(p->out, p->watch);
	close(p->fd);
	free(p);
}
