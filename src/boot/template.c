#include "boot/template.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum tmpl_op_kind {
	TMPL_TEXT,   /* text[off, off + len) as it is */
	TMPL_VAR,    /* the value of the variable named text[off, off + len) */
	TMPL_IF,     /* its block when the variable is not empty, else go to jump */
	TMPL_UNLESS, /* its block when the variable is empty, else go to jump */
	TMPL_ELSE,   /* the end of a block that ran: go to jump (its END) */
	TMPL_END,    /* nothing: where blocks end */
};

struct tmpl_op {
	enum tmpl_op_kind kind;
	uint32_t off, len; /* TEXT: the text; VAR, IF, UNLESS: the name */
	uint32_t jump;	   /* IF, UNLESS: after their ELSE, or their END; ELSE: its END */
};

/* One allocation for the list, one for a copy of the text its spans point into. */
struct tmpl {
	char *text;
	struct tmpl_op *ops;
	size_t n_ops, cap_ops;
};

/* The compiler's state: where it is, and the blocks still open. */
struct tmpl_parse {
	const char *text;
	size_t len, pos;
	size_t counted; /* offset up to which line is counted */
	int line;
	struct tmpl *t;
	struct {
		size_t op; /* the IF or UNLESS, then its ELSE once seen */
		size_t open_op;
		enum tmpl_op_kind kind;
		int line;
	} open[TMPL_MAX_DEPTH];
	size_t depth;
	tmpl_known_fn *known;
	void *ctx;
	struct tmpl_error *err;
};

bool tmpl_name_valid(const char *s, size_t len)
{
	if (len == 0 || len > TMPL_MAX_NAME || !((s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

bool tmpl_value_valid(const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

/* The line of offset off; offsets only grow while compiling. */
static int tmpl_line_at(struct tmpl_parse *tp, size_t off)
{
	for (; tp->counted < off; tp->counted++)
		if (tp->text[tp->counted] == '\n')
			tp->line++;
	return tp->line;
}

static int tmpl_fail(struct tmpl_parse *tp, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int tmpl_fail(struct tmpl_parse *tp, int line, const char *fmt, ...)
{
	va_list ap;

	tp->err->line = line;
	va_start(ap, fmt);
	vsnprintf(tp->err->msg, sizeof(tp->err->msg), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int tmpl_emit(struct tmpl_parse *tp, enum tmpl_op_kind kind, size_t off, size_t len)
{
	struct tmpl *t = tp->t;

	if (kind == TMPL_TEXT && len == 0)
		return 0;
	if (t->n_ops == t->cap_ops) {
		size_t cap = t->cap_ops == 0 ? 16 : t->cap_ops * 2;
		struct tmpl_op *ops = realloc(t->ops, cap * sizeof(*ops));
		if (ops == NULL)
			return -ENOMEM;
		t->ops = ops;
		t->cap_ops = cap;
	}
	t->ops[t->n_ops++] =
	    (struct tmpl_op){.kind = kind, .off = (uint32_t)off, .len = (uint32_t)len, .jump = 0};
	return 0;
}

/*
 * A name inside a tag, checked: well formed, and known. Names are shown
 * cut to fit the message; they hold no control character (the tag is on
 * one line and names are letters, digits and '_').
 */
static int tmpl_check_name(struct tmpl_parse *tp, int line, const char *s, size_t n)
{
	if (!tmpl_name_valid(s, n))
		return tmpl_fail(tp, line,
				 "'%.*s' is not a variable name (a-z, 0-9 and '_', not starting "
				 "with a digit; at most %d bytes)",
				 (int)(n > 64 ? 64 : n), s, TMPL_MAX_NAME);
	if (tp->known != NULL && !tp->known(s, n, tp->ctx))
		return tmpl_fail(tp, line, "unknown variable '%.*s'", (int)n, s);
	return 0;
}

/* Does word w (n bytes) start s, followed by a space or the end? */
static bool tmpl_word(const char *s, size_t len, const char *w, size_t *after)
{
	size_t n = strlen(w);

	if (len < n || memcmp(s, w, n) != 0 || (len > n && s[n] != ' ' && s[n] != '\t'))
		return false;
	*after = n;
	return true;
}

static const char *tmpl_block_name(enum tmpl_op_kind kind)
{
	return kind == TMPL_IF ? "if" : "unless";
}

static int tmpl_open_block(struct tmpl_parse *tp, int line, enum tmpl_op_kind kind,
			   const char *name, size_t n)
{
	int rc = tmpl_check_name(tp, line, name, n);

	if (rc < 0)
		return rc;
	if (tp->depth == TMPL_MAX_DEPTH)
		return tmpl_fail(tp, line, "blocks nested deeper than %d", TMPL_MAX_DEPTH);
	tp->open[tp->depth].op = tp->open[tp->depth].open_op = tp->t->n_ops;
	tp->open[tp->depth].kind = kind;
	tp->open[tp->depth].line = line;
	tp->depth++;
	return tmpl_emit(tp, kind, (size_t)(name - tp->text), n);
}

static int tmpl_else(struct tmpl_parse *tp, int line)
{
	if (tp->depth == 0)
		return tmpl_fail(tp, line, "{{else}} outside {{#if}} or {{#unless}}");
	size_t top = tp->depth - 1;
	if (tp->open[top].op != tp->open[top].open_op)
		return tmpl_fail(tp, line, "a second {{else}} in the block opened at line %d",
				 tp->open[top].line);
	int rc = tmpl_emit(tp, TMPL_ELSE, 0, 0);
	if (rc < 0)
		return rc;
	/* The IF goes past the ELSE when its condition is false. */
	tp->open[top].op = tp->t->n_ops - 1;
	tp->t->ops[tp->open[top].open_op].jump = (uint32_t)tp->t->n_ops;
	return 0;
}

static int tmpl_close_block(struct tmpl_parse *tp, int line, enum tmpl_op_kind kind)
{
	if (tp->depth == 0)
		return tmpl_fail(tp, line, "{{/%s}} closes no block", tmpl_block_name(kind));
	size_t top = tp->depth - 1;
	if (tp->open[top].kind != kind)
		return tmpl_fail(tp, line, "{{/%s}} closes the {{#%s}} opened at line %d",
				 tmpl_block_name(kind), tmpl_block_name(tp->open[top].kind),
				 tp->open[top].line);
	int rc = tmpl_emit(tp, TMPL_END, 0, 0);
	if (rc < 0)
		return rc;
	size_t end = tp->t->n_ops - 1;
	tp->t->ops[tp->open[top].op].jump = (uint32_t)end; /* the ELSE, or the IF without one */
	tp->depth--;
	return 0;
}

/* One tag's inside (s, n bytes, spaces trimmed): what it is, emitted. */
static int tmpl_tag(struct tmpl_parse *tp, int line, const char *s, size_t n)
{
	size_t after;

	if (n > 0 && (s[0] == '#' || s[0] == '/')) {
		enum tmpl_op_kind kind;
		if (tmpl_word(s + 1, n - 1, "if", &after))
			kind = TMPL_IF;
		else if (tmpl_word(s + 1, n - 1, "unless", &after))
			kind = TMPL_UNLESS;
		else
			return tmpl_fail(tp, line,
					 "unknown tag '{{%.*s}}' (only #if, #unless, "
					 "else, /if, /unless and variables)",
					 (int)(n > 40 ? 40 : n), s);
		const char *rest = s + 1 + after;
		size_t rn = n - 1 - after;
		while (rn > 0 && (*rest == ' ' || *rest == '\t'))
			rest++, rn--;
		if (s[0] == '/' && rn > 0)
			return tmpl_fail(tp, line, "{{/%s}} takes no name", tmpl_block_name(kind));
		if (s[0] == '/')
			return tmpl_close_block(tp, line, kind);
		if (rn == 0)
			return tmpl_fail(tp, line, "{{#%s}} needs a variable name",
					 tmpl_block_name(kind));
		return tmpl_open_block(tp, line, kind, rest, rn);
	}
	if (n == 4 && memcmp(s, "else", 4) == 0)
		return tmpl_else(tp, line);
	int rc = tmpl_check_name(tp, line, s, n);
	return rc < 0 ? rc : tmpl_emit(tp, TMPL_VAR, (size_t)(s - tp->text), n);
}

/*
 * A block tag (#if, else, /if...) alone on its line, but for blanks, takes
 * the line: *text_end moves back to the line's start, and the returned
 * offset (where text goes on) past its newline.
 */
static size_t tmpl_standalone(const struct tmpl_parse *tp, size_t ts, size_t te, size_t *text_end)
{
	size_t b = ts, e = te;

	while (b > 0 && (tp->text[b - 1] == ' ' || tp->text[b - 1] == '\t'))
		b--;
	if (b > 0 && tp->text[b - 1] != '\n')
		return te;
	while (e < tp->len && (tp->text[e] == ' ' || tp->text[e] == '\t'))
		e++;
	if (e < tp->len && tp->text[e] == '\r' && e + 1 < tp->len && tp->text[e + 1] == '\n')
		e++;
	if (e < tp->len && tp->text[e] != '\n')
		return te;
	*text_end = b;
	return e < tp->len ? e + 1 : e;
}

/* The tag that starts at ts ("{{"): the text before it, then the tag. */
static int tmpl_next_tag(struct tmpl_parse *tp, size_t ts)
{
	int line = tmpl_line_at(tp, ts);
	size_t i = ts + 2, te;

	while (i + 1 < tp->len && tp->text[i] != '\n' &&
	       !(tp->text[i] == '}' && tp->text[i + 1] == '}'))
		i++;
	if (i + 1 >= tp->len || tp->text[i] == '\n')
		return tmpl_fail(tp, line, "'{{' is not closed by '}}' on its line");
	te = i + 2;
	const char *s = tp->text + ts + 2;
	size_t n = i - (ts + 2);
	while (n > 0 && (*s == ' ' || *s == '\t'))
		s++, n--;
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	size_t text_end = ts, next = te;
	if (n > 0 && (s[0] == '#' || s[0] == '/' || (n == 4 && memcmp(s, "else", 4) == 0)))
		next = tmpl_standalone(tp, ts, te, &text_end);
	int rc = tmpl_emit(tp, TMPL_TEXT, tp->pos, text_end - tp->pos);
	if (rc == 0)
		rc = tmpl_tag(tp, line, s, n);
	tp->pos = next;
	return rc;
}

static int tmpl_parse_all(struct tmpl_parse *tp)
{
	int rc;

	const char *nul = memchr(tp->text, '\0', tp->len);
	if (nul != NULL)
		return tmpl_fail(tp, tmpl_line_at(tp, (size_t)(nul - tp->text)),
				 "a NUL byte in the template");
	while (tp->pos < tp->len) {
		const char *ts = memmem(tp->text + tp->pos, tp->len - tp->pos, "{{", 2);
		if (ts == NULL) {
			rc = tmpl_emit(tp, TMPL_TEXT, tp->pos, tp->len - tp->pos);
			tp->pos = tp->len;
		} else {
			rc = tmpl_next_tag(tp, (size_t)(ts - tp->text));
		}
		if (rc < 0)
			return rc;
	}
	if (tp->depth > 0)
		return tmpl_fail(tp, tp->open[tp->depth - 1].line, "{{#%s}} is never closed",
				 tmpl_block_name(tp->open[tp->depth - 1].kind));
	return 0;
}

int tmpl_compile(const char *text, size_t len, tmpl_known_fn *known, void *ctx, struct tmpl **out,
		 struct tmpl_error *err)
{
	struct tmpl_parse tp = {.len = len, .line = 1, .known = known, .ctx = ctx, .err = err};
	int rc;

	*out = NULL;
	*err = (struct tmpl_error){0};
	if (len > TMPL_MAX_SIZE) {
		err->line = 1;
		snprintf(err->msg, sizeof(err->msg), "the template is %zu bytes long (at most %u)",
			 len, TMPL_MAX_SIZE);
		return -EFBIG;
	}
	tp.t = calloc(1, sizeof(*tp.t));
	if (tp.t == NULL || (tp.t->text = malloc(len + 1)) == NULL) {
		free(tp.t);
		return -ENOMEM;
	}
	memcpy(tp.t->text, text, len);
	tp.t->text[len] = '\0';
	tp.text = tp.t->text;
	rc = tmpl_parse_all(&tp);
	if (rc < 0) {
		tmpl_free(tp.t);
		return rc;
	}
	*out = tp.t;
	return 0;
}

void tmpl_free(struct tmpl *t)
{
	if (t == NULL)
		return;
	free(t->text);
	free(t->ops);
	free(t);
}

/* A capped, growing output buffer; a failed append poisons it. */
struct tmpl_out {
	char *p;
	size_t len, cap, max;
	int err;
};

static void tmpl_put(struct tmpl_out *o, const char *s, size_t n)
{
	if (o->err != 0)
		return;
	if (n > o->max - o->len) {
		o->err = -ENOSPC;
		return;
	}
	if (o->len + n + 1 > o->cap) {
		size_t cap = o->cap;
		while (cap < o->len + n + 1)
			cap *= 2;
		if (cap > o->max + 1)
			cap = o->max + 1;
		char *p = realloc(o->p, cap);
		if (p == NULL) {
			o->err = -ENOMEM;
			return;
		}
		o->p = p;
		o->cap = cap;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static const char *tmpl_lookup(const struct tmpl *t, const struct tmpl_op *op,
			       const struct tmpl_var *vars, size_t n)
{
	const char *name = t->text + op->off;

	for (size_t i = 0; i < n; i++)
		if (strncmp(vars[i].name, name, op->len) == 0 && vars[i].name[op->len] == '\0')
			return vars[i].value != NULL ? vars[i].value : "";
	return "";
}

int tmpl_render(const struct tmpl *t, const struct tmpl_var *vars, size_t n, size_t max_out,
		char **out, size_t *len)
{
	struct tmpl_out o = {.max = max_out != 0 ? max_out : TMPL_MAX_OUTPUT, .cap = 256};
	size_t pc = 0;

	*out = NULL;
	*len = 0;
	if (o.max > SIZE_MAX / 2) /* the buffer is max + 1 bytes at most */
		o.max = SIZE_MAX / 2;
	if (o.cap > o.max + 1)
		o.cap = o.max + 1;
	o.p = malloc(o.cap);
	if (o.p == NULL)
		return -ENOMEM;
	while (pc < t->n_ops && o.err == 0) {
		const struct tmpl_op *op = &t->ops[pc];
		const char *v;
		switch (op->kind) {
		case TMPL_TEXT:
			tmpl_put(&o, t->text + op->off, op->len);
			break;
		case TMPL_VAR:
			v = tmpl_lookup(t, op, vars, n);
			if (!tmpl_value_valid(v))
				o.err = -EINVAL;
			else
				tmpl_put(&o, v, strlen(v));
			break;
		case TMPL_IF:
		case TMPL_UNLESS:
			v = tmpl_lookup(t, op, vars, n);
			if ((v[0] != '\0') != (op->kind == TMPL_IF))
				pc = op->jump;
			break;
		case TMPL_ELSE:
			pc = op->jump;
			break;
		case TMPL_END:
			break;
		}
		/* A jump lands on the op after an ELSE, or on an END: both go on from there. */
		if (op->kind != TMPL_ELSE && pc == (size_t)(op - t->ops))
			pc++;
	}
	if (o.err != 0) {
		free(o.p);
		return o.err;
	}
	o.p[o.len] = '\0';
	*out = o.p;
	*len = o.len;
	return 0;
}
