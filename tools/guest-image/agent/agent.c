/*
 * virtplug guest agent.
 *
 * Serves newline-delimited JSON on the virtio-serial port org.virtplug.agent.0.
 * Built with `gcc -static -O2` so it runs inside a busybox-only initramfs.
 * Protocol and ops are documented in docs/guest-agent.md.
 *
 * `agent --power-button` is a second mode, run as its own process by /init,
 * that powers the guest off on KEY_POWER (ACPI shutdown from libvirt/QMP).
 * It is separate so a busy or crashed agent never blocks a graceful shutdown.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <arpa/inet.h>
#include <linux/input.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "shadow.h"

#define AGENT_VERSION "1.0"
#define PORT_NAME "org.virtplug.agent.0"
#define RUN_DIR "/run/virtplug"
#define HOOK_DIR "/etc/virtplug/clone.d"
#define MAX_LINE (64u << 20)      /* largest accepted request line */
#define MAX_IO (16u << 20)        /* largest read-file / disk-read payload */
#define HOOK_STDOUT_MAX 4096
#define HOOK_TIMEOUT_MS 120000

extern char **environ;

/* ------------------------------------------------------------------ */
/* growable byte buffer                                                */

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void buf_reserve(buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        /* Out of memory mid-response: nothing sane to send; restart cleanly. */
        fprintf(stderr, "virtplug-agent: out of memory\n");
        _exit(111);
    }
    b->p = p;
    b->cap = cap;
    b->p[b->len] = 0; /* always a C string, even if nothing is ever appended */
}

static void buf_put(buf_t *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = 0;
}

static void buf_puts(buf_t *b, const char *s) { buf_put(b, s, strlen(s)); }

static void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* Length of a valid UTF-8 sequence at s, or 0 if invalid. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) { len = 2; min = 0x80; }
    else if (c >= 0xe0 && c <= 0xef) { len = 3; min = 0x800; }
    else if (c >= 0xf0 && c <= 0xf4) { len = 4; min = 0x10000; }
    else return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0x3f >> (len - 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Emit a JSON string. Invalid UTF-8 (e.g. from hook stdout) becomes U+FFFD
 * so the host always receives parseable JSON. */
static void json_str(buf_t *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    buf_reserve(b, n + 2);
    buf_put(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            buf_put(b, e, 2);
            i++;
        } else if (c < 0x20) {
            switch (c) {
            case '\n': buf_puts(b, "\\n"); break;
            case '\r': buf_puts(b, "\\r"); break;
            case '\t': buf_puts(b, "\\t"); break;
            case '\b': buf_puts(b, "\\b"); break;
            case '\f': buf_puts(b, "\\f"); break;
            default: buf_printf(b, "\\u%04x", c);
            }
            i++;
        } else if (c < 0x80) {
            buf_put(b, s + i, 1);
            i++;
        } else {
            size_t l = utf8_len(u + i, n - i);
            if (l) {
                buf_put(b, s + i, l);
                i += l;
            } else {
                buf_puts(b, "\\ufffd");
                i++;
            }
        }
    }
    buf_put(b, "\"", 1);
}

static void json_cstr(buf_t *b, const char *s) { json_str(b, s, strlen(s)); }

/* ------------------------------------------------------------------ */
/* minimal JSON parser: one flat object, values may be one level of   */
/* nested object (for "params"); arrays are rejected.                 */

enum { J_STR, J_NUM, J_BOOL, J_NULL, J_OBJ };

typedef struct field {
    char *key;
    size_t klen;
    int type;
    char *s;        /* decoded string, or raw text of number/bool/null */
    size_t slen;
    double num;
    int boolean;
    struct field *kids;
    int nkids;
} field;

typedef struct {
    const char *p, *end;
    char err[160];
} parser;

#define MAX_FIELDS 1024

static int perr(parser *ps, const char *msg)
{
    if (!ps->err[0])
        snprintf(ps->err, sizeof ps->err, "invalid JSON: %s", msg);
    return -1;
}

static void skip_ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static int hex4(const char *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(buf_t *b, unsigned cp)
{
    char o[4];
    if (cp < 0x80) { o[0] = (char)cp; buf_put(b, o, 1); }
    else if (cp < 0x800) {
        o[0] = (char)(0xc0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3f));
        buf_put(b, o, 2);
    } else if (cp < 0x10000) {
        o[0] = (char)(0xe0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (char)(0x80 | (cp & 0x3f));
        buf_put(b, o, 3);
    } else {
        o[0] = (char)(0xf0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
        buf_put(b, o, 4);
    }
}

static int parse_string(parser *ps, char **out, size_t *outlen)
{
    buf_t b = {0};
    if (ps->p >= ps->end || *ps->p != '"')
        return perr(ps, "expected string");
    ps->p++;
    buf_reserve(&b, 16);
    for (;;) {
        if (ps->p >= ps->end) {
            buf_free(&b);
            return perr(ps, "unterminated string");
        }
        unsigned char c = (unsigned char)*ps->p++;
        if (c == '"')
            break;
        if (c < 0x20) {
            buf_free(&b);
            return perr(ps, "control character in string");
        }
        if (c != '\\') {
            buf_put(&b, &c, 1);
            continue;
        }
        if (ps->p >= ps->end) {
            buf_free(&b);
            return perr(ps, "bad escape");
        }
        char e = *ps->p++;
        switch (e) {
        case '"': case '\\': case '/': buf_put(&b, &e, 1); break;
        case 'b': buf_put(&b, "\b", 1); break;
        case 'f': buf_put(&b, "\f", 1); break;
        case 'n': buf_put(&b, "\n", 1); break;
        case 'r': buf_put(&b, "\r", 1); break;
        case 't': buf_put(&b, "\t", 1); break;
        case 'u': {
            unsigned cp, lo;
            if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) {
                buf_free(&b);
                return perr(ps, "bad \\u escape");
            }
            ps->p += 4;
            if (cp >= 0xd800 && cp <= 0xdbff && ps->end - ps->p >= 6 && ps->p[0] == '\\' &&
                ps->p[1] == 'u' && !hex4(ps->p + 2, &lo) && lo >= 0xdc00 && lo <= 0xdfff) {
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xd800 && cp <= 0xdfff) {
                cp = 0xfffd; /* lone surrogate, as JSON.stringify may emit */
            }
            put_utf8(&b, cp);
            break;
        }
        default:
            buf_free(&b);
            return perr(ps, "bad escape");
        }
    }
    *out = b.p;
    *outlen = b.len;
    return 0;
}

static int parse_number(parser *ps, field *f)
{
    const char *s = ps->p;
    const char *p = s;
    if (p < ps->end && *p == '-') p++;
    if (p >= ps->end || !isdigit((unsigned char)*p)) return perr(ps, "bad number");
    if (*p == '0') p++;
    else while (p < ps->end && isdigit((unsigned char)*p)) p++;
    if (p < ps->end && *p == '.') {
        p++;
        if (p >= ps->end || !isdigit((unsigned char)*p)) return perr(ps, "bad number");
        while (p < ps->end && isdigit((unsigned char)*p)) p++;
    }
    if (p < ps->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < ps->end && (*p == '+' || *p == '-')) p++;
        if (p >= ps->end || !isdigit((unsigned char)*p)) return perr(ps, "bad number");
        while (p < ps->end && isdigit((unsigned char)*p)) p++;
    }
    f->type = J_NUM;
    f->slen = (size_t)(p - s);
    f->s = strndup(s, f->slen);
    f->num = strtod(f->s, NULL);
    ps->p = p;
    return 0;
}

static int parse_object(parser *ps, field **out, int *nout, int depth);

static int lit(parser *ps, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n))
        return 0;
    ps->p += n;
    return 1;
}

static int parse_value(parser *ps, field *f, int depth)
{
    skip_ws(ps);
    if (ps->p >= ps->end)
        return perr(ps, "unexpected end");
    char c = *ps->p;
    if (c == '"') {
        f->type = J_STR;
        return parse_string(ps, &f->s, &f->slen);
    }
    if (c == '{') {
        if (depth >= 1)
            return perr(ps, "objects nested too deeply");
        f->type = J_OBJ;
        return parse_object(ps, &f->kids, &f->nkids, depth + 1);
    }
    if (c == '[')
        return perr(ps, "arrays are not supported");
    if (c == '-' || isdigit((unsigned char)c))
        return parse_number(ps, f);
    if (lit(ps, "true")) { f->type = J_BOOL; f->boolean = 1; f->s = strdup("true"); f->slen = 4; return 0; }
    if (lit(ps, "false")) { f->type = J_BOOL; f->s = strdup("false"); f->slen = 5; return 0; }
    if (lit(ps, "null")) { f->type = J_NULL; f->s = strdup("null"); f->slen = 4; return 0; }
    return perr(ps, "unexpected character");
}

static void free_fields(field *f, int n)
{
    for (int i = 0; i < n; i++) {
        free(f[i].key);
        free(f[i].s);
        free_fields(f[i].kids, f[i].nkids);
    }
    free(f);
}

static int parse_object(parser *ps, field **out, int *nout, int depth)
{
    field *fs = NULL;
    int n = 0, cap = 0;
    *out = NULL;
    *nout = 0;
    skip_ws(ps);
    if (ps->p >= ps->end || *ps->p != '{')
        return perr(ps, "expected object");
    ps->p++;
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return 0;
    }
    for (;;) {
        if (n == cap) {
            if (cap >= MAX_FIELDS) {
                free_fields(fs, n);
                return perr(ps, "too many fields");
            }
            cap = cap ? cap * 2 : 8;
            field *nf = realloc(fs, sizeof *fs * (size_t)cap);
            if (!nf) {
                free_fields(fs, n);
                return perr(ps, "out of memory");
            }
            fs = nf;
        }
        field *f = &fs[n];
        memset(f, 0, sizeof *f);
        n++;
        skip_ws(ps);
        if (parse_string(ps, &f->key, &f->klen))
            goto fail;
        skip_ws(ps);
        if (ps->p >= ps->end || *ps->p != ':') {
            perr(ps, "expected ':'");
            goto fail;
        }
        ps->p++;
        if (parse_value(ps, f, depth))
            goto fail;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        if (ps->p < ps->end && *ps->p == '}') {
            ps->p++;
            break;
        }
        perr(ps, "expected ',' or '}'");
        goto fail;
    }
    *out = fs;
    *nout = n;
    return 0;
fail:
    free_fields(fs, n);
    return -1;
}

/* ------------------------------------------------------------------ */
/* request accessors                                                   */

typedef struct {
    field *f;
    int n;
} req_t;

static field *get(req_t *r, const char *key)
{
    field *hit = NULL; /* last duplicate wins, like JSON.parse */
    size_t kl = strlen(key);
    for (int i = 0; i < r->n; i++)
        if (r->f[i].klen == kl && !memcmp(r->f[i].key, key, kl))
            hit = &r->f[i];
    return hit;
}

static char *errbuf; /* points at the current response's error text */
#define ERRLEN 512

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, ERRLEN, fmt, ap);
    va_end(ap);
    return -1;
}

/* String arg. Embedded NULs are rejected: every string ends up in a path,
 * argv or env, where a NUL would silently truncate it. */
static int arg_str(req_t *r, const char *key, int required, const char **out)
{
    field *f = get(r, key);
    *out = NULL;
    if (!f || f->type == J_NULL)
        return required ? fail("missing argument '%s'", key) : 0;
    if (f->type != J_STR)
        return fail("argument '%s' must be a string", key);
    if (strlen(f->s) != f->slen)
        return fail("argument '%s' contains a NUL character", key);
    *out = f->s;
    return 0;
}

static int arg_u64(req_t *r, const char *key, int required, uint64_t def, uint64_t *out)
{
    field *f = get(r, key);
    *out = def;
    if (!f || f->type == J_NULL)
        return required ? fail("missing argument '%s'", key) : 0;
    if (f->type != J_NUM || f->num < 0 || f->num > 9007199254740992.0 || f->num != (double)(uint64_t)f->num)
        return fail("argument '%s' must be a non-negative integer", key);
    *out = (uint64_t)f->num;
    return 0;
}

static int arg_bool(req_t *r, const char *key, int def, int *out)
{
    field *f = get(r, key);
    *out = def;
    if (!f || f->type == J_NULL)
        return 0;
    if (f->type != J_BOOL)
        return fail("argument '%s' must be a boolean", key);
    *out = f->boolean;
    return 0;
}

/* ------------------------------------------------------------------ */
/* small utilities                                                     */

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* Read a small text file, trimming trailing whitespace. */
static int read_small(const char *path, char *out, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n < 0)
        return -1;
    while (n > 0 && isspace((unsigned char)out[n - 1]))
        n--;
    out[n] = 0;
    return 0;
}

static int write_all_fd(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Write a whole file via a temp name so readers never see half of it. */
static int write_file_atomic(const char *path, const char *data, size_t n)
{
    char tmp[512];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (write_all_fd(fd, data, n) || close(fd) || rename(tmp, path)) {
        unlink(tmp);
        return -1;
    }
    return 0;
}

static void mkdir_p(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
    }
    mkdir(tmp, 0755);
}

static void random_bytes(void *p, size_t n)
{
    /* GRND_INSECURE: never block early in boot; these ids are not secrets. */
    if (getrandom(p, n, 0x0004 /* GRND_INSECURE */) == (ssize_t)n)
        return;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, p, n) == (ssize_t)n) {
            close(fd);
            return;
        }
        close(fd);
    }
    uint64_t x = (uint64_t)now_ms() ^ (uint64_t)getpid() << 32;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        ((unsigned char *)p)[i] = (unsigned char)(x >> 56);
    }
}

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_encode(buf_t *b, const unsigned char *d, size_t n)
{
    buf_reserve(b, (n + 2) / 3 * 4);
    char *o = b->p + b->len;
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        *o++ = B64[d[i] >> 2];
        *o++ = B64[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
        *o++ = B64[((d[i + 1] & 15) << 2) | (d[i + 2] >> 6)];
        *o++ = B64[d[i + 2] & 63];
    }
    if (i < n) {
        *o++ = B64[d[i] >> 2];
        if (i + 1 < n) {
            *o++ = B64[((d[i] & 3) << 4) | (d[i + 1] >> 4)];
            *o++ = B64[(d[i + 1] & 15) << 2];
        } else {
            *o++ = B64[(d[i] & 3) << 4];
            *o++ = '=';
        }
        *o++ = '=';
    }
    b->len = (size_t)(o - b->p);
    b->p[b->len] = 0;
}

/* Decodes standard base64 (padding optional, whitespace ignored). */
static int b64_decode(const char *s, size_t n, buf_t *out)
{
    unsigned acc = 0;
    int bits = 0, pad = 0;
    buf_reserve(out, n / 4 * 3 + 3);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int v;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '+' || c == '-') v = 62;
        else if (c == '/' || c == '_') v = 63;
        else if (c == '=') { pad++; continue; }
        else if (c == '\n' || c == '\r' || c == ' ' || c == '\t') continue;
        else return -1;
        if (pad)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out->p[out->len++] = (char)((acc >> bits) & 0xff);
        }
    }
    out->p[out->len] = 0;
    return 0;
}

/* ------------------------------------------------------------------ */
/* child processes: posix_spawn with argv arrays, never a shell string */

typedef struct {
    int exit_code;   /* exit status, or 128+signal */
    int timed_out;
    buf_t out;       /* first `outmax` bytes of stdout */
} proc_result;

static int run_proc(char *const argv[], char *const envp[], int timeout_ms, size_t outmax, proc_result *res)
{
    int pfd[2];
    memset(res, 0, sizeof *res);
    res->exit_code = -1;
    if (pipe2(pfd, O_CLOEXEC))
        return -1;

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
    posix_spawnattr_init(&at);
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE); /* agent ignores SIGPIPE; children must not inherit that */
    sigaddset(&def, SIGCHLD);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setpgroup(&at, 0); /* own group, so a timeout kills the hook's children too */
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, &at, argv, envp);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(pfd[1]);
    if (rc) {
        close(pfd[0]);
        errno = rc;
        return -1;
    }

    double deadline = now_ms() + timeout_ms, exited_at = 0;
    int status = 0, reaped = 0;
    char chunk[4096];
    for (;;) {
        if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
            reaped = 1;
            exited_at = now_ms();
        }
        /* A backgrounded grandchild may hold the pipe open forever: once the
         * hook itself exited, give its output a short grace period only. */
        if (reaped && now_ms() - exited_at > 200)
            break;
        if (!reaped && now_ms() > deadline) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            res->timed_out = 1;
            break;
        }
        struct pollfd p = {pfd[0], POLLIN, 0};
        int pr = poll(&p, 1, 50);
        if (pr <= 0)
            continue;
        ssize_t n = read(pfd[0], chunk, sizeof chunk);
        if (n > 0) {
            if (res->out.len < outmax) {
                size_t take = (size_t)n;
                if (take > outmax - res->out.len)
                    take = outmax - res->out.len;
                buf_put(&res->out, chunk, take);
            }
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            if (reaped)
                break;
            /* EOF before exit: just wait for the process. */
            while (!reaped && now_ms() <= deadline) {
                if (waitpid(pid, &status, WNOHANG) == pid)
                    reaped = 1;
                else
                    usleep(10000);
            }
            if (!reaped) {
                kill(-pid, SIGKILL);
                kill(pid, SIGKILL);
                res->timed_out = 1;
            }
            break;
        }
    }
    close(pfd[0]);
    if (!reaped)
        waitpid(pid, &status, 0);
    if (WIFEXITED(status))
        res->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        res->exit_code = 128 + WTERMSIG(status);
    if (!res->out.p)
        buf_puts(&res->out, "");
    return 0;
}

/* Busybox applets live in /bin or /sbin depending on the applet. */
static char *tool(const char *name)
{
    static char paths[4][64];
    static int slot;
    static const char *const dirs[] = {"/sbin/", "/bin/", "/usr/sbin/", "/usr/bin/"};
    char *out = paths[slot++ % 4];
    for (int i = 0; i < 4; i++) {
        snprintf(out, 64, "%s%s", dirs[i], name);
        if (access(out, X_OK) == 0)
            return out;
    }
    snprintf(out, 64, "/bin/%s", name);
    return out;
}

static char *base_env[] = {"PATH=/sbin:/bin:/usr/sbin:/usr/bin", "HOME=/", NULL};

/* Runs a system command (from a fixed argv) and fails the request if it fails. */
static int cmd(char *const argv[])
{
    proc_result pr;
    if (run_proc(argv, base_env, 10000, 1024, &pr))
        return fail("cannot run %s: %s", argv[0], strerror(errno));
    int ec = pr.exit_code;
    buf_free(&pr.out);
    if (ec != 0) {
        buf_t line = {0};
        for (int i = 0; argv[i]; i++)
            buf_printf(&line, "%s%s", i ? " " : "", argv[i]);
        fail("'%s' failed with exit code %d", line.p, ec);
        buf_free(&line);
        return -1;
    }
    return 0;
}

/* Fire-and-forget (reaped in the main loop): gratuitous ARP must not stall clones. */
static void spawn_detached(char *const argv[])
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t at;
    posix_spawnattr_init(&at);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigdefault(&at, &def);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF);
    posix_spawn(&pid, argv[0], &fa, &at, argv, base_env);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
}

/* ------------------------------------------------------------------ */
/* state kept in guest RAM (survives save/restore, copied into clones) */

static unsigned long clone_generation;
static char *marker;
static size_t marker_len;
static int marker_set;

typedef struct chunk {
    struct chunk *next;
    unsigned char *data;
    size_t size;
    uint64_t seed;
} chunk;
static chunk *mem_chunks;

enum { POWER_NONE, POWER_OFF, POWER_REBOOT };
static int pending_power;

/* ------------------------------------------------------------------ */
/* ops                                                                 */

static int valid_iface(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= IFNAMSIZ)
        return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return 0;
    return 1;
}

static void put_identity(buf_t *res)
{
    char host[256] = "", tmp[256];
    gethostname(host, sizeof host - 1);
    buf_puts(res, "{\"hostname\":");
    json_cstr(res, host);

    buf_puts(res, ",\"macs\":{");
    DIR *d = opendir("/sys/class/net");
    int first = 1;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "lo"))
            continue;
        char path[512];
        snprintf(path, sizeof path, "/sys/class/net/%s/address", e->d_name);
        if (read_small(path, tmp, sizeof tmp))
            continue;
        buf_puts(res, first ? "" : ",");
        json_cstr(res, e->d_name);
        buf_puts(res, ":");
        json_cstr(res, tmp);
        first = 0;
    }
    if (d)
        closedir(d);

    buf_puts(res, "},\"ips\":{");
    struct ifaddrs *ifs = NULL, *i;
    first = 1;
    if (getifaddrs(&ifs) == 0) {
        for (i = ifs; i; i = i->ifa_next) {
            if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET || !strcmp(i->ifa_name, "lo"))
                continue;
            /* first IPv4 address per interface only */
            struct ifaddrs *j;
            for (j = ifs; j != i; j = j->ifa_next)
                if (j->ifa_addr && j->ifa_addr->sa_family == AF_INET && !strcmp(j->ifa_name, i->ifa_name))
                    break;
            if (j != i)
                continue;
            char a[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, a, sizeof a);
            int prefix = 0;
            if (i->ifa_netmask)
                prefix = __builtin_popcount(((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr);
            buf_puts(res, first ? "" : ",");
            json_cstr(res, i->ifa_name);
            buf_printf(res, ":\"%s/%d\"", a, prefix);
            first = 0;
        }
        freeifaddrs(ifs);
    }
    buf_puts(res, "},\"boot_id\":");
    if (read_small("/proc/sys/kernel/random/boot_id", tmp, sizeof tmp))
        tmp[0] = 0;
    json_cstr(res, tmp);
    if (read_small("/proc/uptime", tmp, sizeof tmp))
        strcpy(tmp, "0");
    buf_printf(res, ",\"uptime_sec\":%.2f", strtod(tmp, NULL));
    buf_puts(res, ",\"machine_id\":");
    if (read_small("/etc/machine-id", tmp, sizeof tmp))
        tmp[0] = 0;
    json_cstr(res, tmp);
    buf_printf(res, ",\"clone_generation\":%lu}", clone_generation);
}

static int op_ping(req_t *r, buf_t *res)
{
    (void)r;
    buf_puts(res, "{\"pong\":true,\"version\":\"" AGENT_VERSION "\"}");
    return 0;
}

static int op_identity(req_t *r, buf_t *res)
{
    (void)r;
    put_identity(res);
    return 0;
}

static int op_set_identity(req_t *r, buf_t *res)
{
    const char *hostname, *mac, *ip, *iface, *gw, *mid;
    if (arg_str(r, "hostname", 0, &hostname) || arg_str(r, "mac", 0, &mac) || arg_str(r, "ip", 0, &ip) ||
        arg_str(r, "iface", 0, &iface) || arg_str(r, "gateway", 0, &gw) || arg_str(r, "machine_id", 0, &mid))
        return -1;
    if (!iface)
        iface = "eth0";
    if (!valid_iface(iface))
        return fail("invalid iface");

    /* Validate everything before changing anything. */
    if (hostname) {
        size_t n = strlen(hostname);
        if (n == 0 || n > 63)
            return fail("hostname must be 1-63 characters");
        for (const char *p = hostname; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.')
                return fail("hostname may contain only letters, digits, '-' and '.'");
    }
    unsigned m[6];
    char macbuf[32];
    if (mac) {
        char end;
        if (strlen(mac) != 17 ||
            sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &end) != 6)
            return fail("mac must look like 52:54:00:12:34:56");
        if (m[0] & 1)
            return fail("mac must be a unicast address");
        snprintf(macbuf, sizeof macbuf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    }
    char addr[INET_ADDRSTRLEN] = "", cidr[INET_ADDRSTRLEN + 4];
    if (ip) {
        const char *slash = strchr(ip, '/');
        struct in_addr ia;
        char *endp;
        long pfx = slash ? strtol(slash + 1, &endp, 10) : -1;
        if (!slash || (size_t)(slash - ip) >= sizeof addr || slash[1] == 0 || *endp || pfx < 0 || pfx > 32)
            return fail("ip must look like 10.0.0.5/24");
        memcpy(addr, ip, (size_t)(slash - ip));
        addr[slash - ip] = 0;
        if (inet_pton(AF_INET, addr, &ia) != 1)
            return fail("ip must look like 10.0.0.5/24");
        snprintf(cidr, sizeof cidr, "%s/%ld", addr, pfx);
    }
    if (gw) {
        struct in_addr ia;
        if (inet_pton(AF_INET, gw, &ia) != 1)
            return fail("gateway must be an IPv4 address");
    }
    char midbuf[40];
    if (mid) {
        if (!strcmp(mid, "new")) {
            unsigned char rb[16];
            random_bytes(rb, sizeof rb);
            for (int k = 0; k < 16; k++)
                sprintf(midbuf + 2 * k, "%02x", rb[k]);
        } else {
            if (strlen(mid) != 32 || strspn(mid, "0123456789abcdef") != 32)
                return fail("machine_id must be \"new\" or 32 lowercase hex digits");
            strcpy(midbuf, mid);
        }
    }

    char ifc[IFNAMSIZ];
    snprintf(ifc, sizeof ifc, "%s", iface);
    if (mac || ip) {
        char *down[] = {tool("ip"), "link", "set", "dev", ifc, "down", NULL};
        if (cmd(down))
            return -1;
    }
    if (mac) {
        char *a[] = {tool("ip"), "link", "set", "dev", ifc, "address", macbuf, NULL};
        if (cmd(a))
            return -1;
    }
    if (ip) {
        char *fl[] = {tool("ip"), "addr", "flush", "dev", ifc, NULL};
        char *ad[] = {tool("ip"), "addr", "add", cidr, "dev", ifc, NULL};
        if (cmd(fl) || cmd(ad))
            return -1;
    }
    if (mac || ip || gw) {
        char *up[] = {tool("ip"), "link", "set", "dev", ifc, "up", NULL};
        if (cmd(up))
            return -1;
    }
    if (gw) {
        char gwc[INET_ADDRSTRLEN];
        snprintf(gwc, sizeof gwc, "%s", gw);
        char *rt[] = {tool("ip"), "route", "replace", "default", "via", gwc, "dev", ifc, NULL};
        if (cmd(rt))
            return -1;
    }
    if (mac || ip) {
        /* A clone inherits its parent's neighbour cache; stale entries would
         * keep sending to the parent's peers' old MACs. */
        char *nf[] = {tool("ip"), "neigh", "flush", "dev", ifc, NULL};
        cmd(nf); /* empty cache is not an error worth failing for */
        struct in_addr cur;
        char curaddr[INET_ADDRSTRLEN] = "";
        if (ip) {
            snprintf(curaddr, sizeof curaddr, "%s", addr);
        } else {
            struct ifaddrs *ifs, *i;
            if (getifaddrs(&ifs) == 0) {
                for (i = ifs; i; i = i->ifa_next)
                    if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && !strcmp(i->ifa_name, ifc)) {
                        cur = ((struct sockaddr_in *)i->ifa_addr)->sin_addr;
                        inet_ntop(AF_INET, &cur, curaddr, sizeof curaddr);
                        break;
                    }
                freeifaddrs(ifs);
            }
        }
        char *arping = tool("arping");
        if (curaddr[0] && access(arping, X_OK) == 0) {
            char *ar[] = {arping, "-U", "-c", "1", "-w", "2", "-I", ifc, curaddr, NULL};
            spawn_detached(ar);
        }
    }
    if (hostname) {
        if (sethostname(hostname, strlen(hostname)))
            return fail("sethostname: %s", strerror(errno));
        char line[80];
        snprintf(line, sizeof line, "%s\n", hostname);
        write_file_atomic("/etc/hostname", line, strlen(line));
    }
    if (mid) {
        char line[40];
        snprintf(line, sizeof line, "%s\n", midbuf);
        if (write_file_atomic("/etc/machine-id", line, strlen(line)))
            return fail("write /etc/machine-id: %s", strerror(errno));
    }
    clone_generation++;
    put_identity(res);
    return 0;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name); /* bytewise: locale-independent */
}

static int op_params(req_t *r, buf_t *res)
{
    field *pf = get(r, "params");
    if (!pf || pf->type != J_OBJ)
        return fail("argument 'params' must be an object");
    uint64_t timeout_sec;
    if (arg_u64(r, "timeout_sec", 0, HOOK_TIMEOUT_MS / 1000, &timeout_sec))
        return -1;

    /* Canonical re-serialisation: what hooks see is exactly what we parsed. */
    buf_t js = {0};
    buf_puts(&js, "{");
    for (int i = 0; i < pf->nkids; i++) {
        field *k = &pf->kids[i];
        if (strlen(k->key) != k->klen || strlen(k->s) != k->slen) {
            buf_free(&js);
            return fail("params keys and values may not contain NUL characters");
        }
        buf_puts(&js, i ? "," : "");
        json_str(&js, k->key, k->klen);
        buf_puts(&js, ":");
        if (k->type == J_STR)
            json_str(&js, k->s, k->slen);
        else
            buf_put(&js, k->s, k->slen);
    }
    buf_puts(&js, "}");

    mkdir_p(RUN_DIR);
    if (write_file_atomic(RUN_DIR "/params.json", js.p, js.len)) {
        buf_free(&js);
        return fail("write " RUN_DIR "/params.json: %s", strerror(errno));
    }

    /* env: base + VMS_<sanitised key>=<value>; a later key that sanitises to
     * the same name replaces the earlier one rather than duplicating it. */
    int nenv = 0;
    char **env = calloc((size_t)pf->nkids + 3, sizeof *env);
    env[nenv++] = strdup(base_env[0]);
    env[nenv++] = strdup(base_env[1]);
    for (int i = 0; i < pf->nkids; i++) {
        field *k = &pf->kids[i];
        buf_t e = {0};
        buf_puts(&e, "VMS_");
        for (size_t c = 0; c < k->klen; c++) {
            char ch = k->key[c];
            buf_put(&e, isalnum((unsigned char)ch) || ch == '_' ? &ch : "_", 1);
        }
        size_t namelen = e.len;
        buf_puts(&e, "=");
        buf_put(&e, k->s, k->slen);
        int j;
        for (j = 2; j < nenv; j++)
            if (!strncmp(env[j], e.p, namelen + 1))
                break;
        if (j < nenv)
            free(env[j]);
        else
            nenv++;
        env[j] = e.p;
    }
    env[nenv] = NULL;

    buf_puts(res, "{\"hooks\":[");
    struct dirent **ents = NULL;
    int n = scandir(HOOK_DIR, &ents, NULL, by_name);
    int emitted = 0;
    for (int i = 0; i < n; i++) {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, HOOK_DIR "/%s", ents[i]->d_name);
        if (ents[i]->d_name[0] == '.' || stat(path, &st) || !S_ISREG(st.st_mode) || access(path, X_OK)) {
            free(ents[i]);
            continue;
        }
        char *argv[] = {path, "launch", js.p, NULL};
        proc_result pr;
        buf_puts(res, emitted++ ? "," : "");
        buf_puts(res, "{\"name\":");
        json_cstr(res, ents[i]->d_name);
        if (run_proc(argv, env, (int)(timeout_sec * 1000), HOOK_STDOUT_MAX, &pr)) {
            buf_printf(res, ",\"exit\":127,\"stdout\":\"\",\"error\":");
            json_cstr(res, strerror(errno));
        } else {
            buf_printf(res, ",\"exit\":%d,\"stdout\":", pr.exit_code);
            json_str(res, pr.out.p, pr.out.len);
            if (pr.timed_out)
                buf_puts(res, ",\"timed_out\":true");
            buf_free(&pr.out);
        }
        buf_puts(res, "}");
        free(ents[i]);
    }
    free(ents);
    buf_puts(res, "],\"params_path\":\"" RUN_DIR "/params.json\"}");
    for (int i = 0; i < nenv; i++)
        free(env[i]);
    free(env);
    buf_free(&js);
    return 0;
}

static int op_marker_set(req_t *r, buf_t *res)
{
    field *f = get(r, "value");
    if (!f || f->type != J_STR)
        return fail("argument 'value' must be a string");
    char *copy = malloc(f->slen + 1);
    if (!copy)
        return fail("out of memory");
    memcpy(copy, f->s, f->slen + 1);
    free(marker);
    marker = copy;
    marker_len = f->slen;
    marker_set = 1;
    buf_puts(res, "{\"value\":");
    json_str(res, marker, marker_len);
    buf_puts(res, "}");
    return 0;
}

static int op_marker_get(req_t *r, buf_t *res)
{
    (void)r;
    buf_puts(res, "{\"value\":");
    if (marker_set)
        json_str(res, marker, marker_len);
    else
        buf_puts(res, "null");
    buf_printf(res, ",\"set\":%s}", marker_set ? "true" : "false");
    return 0;
}

static const char *const allowed_roots[] = {"/data", "/run/virtplug", "/tmp", NULL};

static int under_allowed_root(const char *p)
{
    for (int i = 0; allowed_roots[i]; i++) {
        size_t n = strlen(allowed_roots[i]);
        if (!strncmp(p, allowed_roots[i], n) && (p[n] == 0 || p[n] == '/'))
            return 1;
    }
    return 0;
}

/* Absolute, no '..' component, under an allowed root. */
static int check_lexical(const char *path)
{
    if (path[0] != '/')
        return fail("path must be absolute");
    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        const char *e = strchrnul(p, '/');
        if (e - p == 2 && p[0] == '.' && p[1] == '.')
            return fail("path may not contain '..'");
        p = e;
    }
    if (!under_allowed_root(path))
        return fail("path must be under /data, /run/virtplug or /tmp");
    return 0;
}

/* Lexical check plus a realpath check of what exists (the file, or its
 * parent when writing), so a symlink under /tmp cannot lead to /etc. */
static int check_path(const char *path, int for_write)
{
    if (check_lexical(path))
        return -1;
    char probe[4096], real[PATH_MAX];
    snprintf(probe, sizeof probe, "%s", path);
    if (for_write) {
        char *slash = strrchr(probe, '/');
        if (slash == probe || slash[1] == 0)
            return fail("path must name a file");
        *slash = 0;
    }
    if (!realpath(probe, real))
        return fail("%s: %s", probe, strerror(errno));
    if (!under_allowed_root(real))
        return fail("path resolves outside the allowed directories");
    return 0;
}

/* mkdir -p that re-checks each component as it goes, so a symlink such as
 * /tmp/link -> /etc cannot make it create directories outside the roots. */
static int safe_mkdir_p(const char *dir)
{
    char tmp[4096], real[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1;; p++) {
        if (*p != '/' && *p != 0)
            continue;
        char c = *p;
        *p = 0;
        if (under_allowed_root(tmp)) {
            if (mkdir(tmp, 0755) && errno != EEXIST)
                return fail("mkdir %s: %s", tmp, strerror(errno));
            if (!realpath(tmp, real) || !under_allowed_root(real))
                return fail("path resolves outside the allowed directories");
        }
        *p = c;
        if (!c)
            return 0;
    }
}

static int mkdir_parent(const char *path)
{
    char parent[4096];
    snprintf(parent, sizeof parent, "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return 0;
    *slash = 0;
    return safe_mkdir_p(parent);
}

static int op_read_file(req_t *r, buf_t *res)
{
    const char *path;
    uint64_t max;
    if (arg_str(r, "path", 1, &path) || arg_u64(r, "max", 0, 1u << 20, &max) || check_path(path, 0))
        return -1;
    if (max > MAX_IO)
        max = MAX_IO;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail("open %s: %s", path, strerror(errno));
    struct stat st;
    fstat(fd, &st);
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return fail("%s is not a regular file", path);
    }
    buf_t data = {0};
    buf_reserve(&data, max);
    while (data.len < max) {
        ssize_t n = read(fd, data.p + data.len, max - data.len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        data.len += (size_t)n;
    }
    close(fd);
    buf_puts(res, "{\"data_b64\":\"");
    b64_encode(res, (unsigned char *)data.p, data.len);
    buf_printf(res, "\",\"size\":%lld,\"truncated\":%s}", (long long)st.st_size,
               (off_t)data.len < st.st_size ? "true" : "false");
    buf_free(&data);
    return 0;
}

static int op_write_file(req_t *r, buf_t *res)
{
    const char *path;
    int dosync;
    field *d = get(r, "data_b64");
    if (arg_str(r, "path", 1, &path) || arg_bool(r, "sync", 1, &dosync))
        return -1;
    if (!d || d->type != J_STR)
        return fail("argument 'data_b64' must be a string");
    if (check_lexical(path) || mkdir_parent(path) || check_path(path, 1))
        return -1;
    buf_t data = {0};
    if (b64_decode(d->s, d->slen, &data)) {
        buf_free(&data);
        return fail("data_b64 is not valid base64");
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        buf_free(&data);
        return fail("open %s: %s", path, strerror(errno));
    }
    int bad = write_all_fd(fd, data.p, data.len) || (dosync && fsync(fd));
    int e = errno;
    close(fd);
    size_t n = data.len;
    buf_free(&data);
    if (bad)
        return fail("write %s: %s", path, strerror(e));
    buf_printf(res, "{\"size\":%zu}", n);
    return 0;
}

static int open_blockdev(req_t *r, int flags, int *fdout, const char **devout)
{
    const char *dev;
    if (arg_str(r, "device", 1, &dev))
        return -1;
    if (strncmp(dev, "/dev/", 5) || !dev[5] || strchr(dev + 5, '/') || strstr(dev, ".."))
        return fail("device must look like /dev/vdb");
    int fd = open(dev, flags | O_CLOEXEC);
    if (fd < 0)
        return fail("open %s: %s", dev, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISBLK(st.st_mode)) {
        close(fd);
        return fail("%s is not a block device", dev);
    }
    *fdout = fd;
    *devout = dev;
    return 0;
}

static int op_disk_write(req_t *r, buf_t *res)
{
    uint64_t off;
    int fd;
    const char *dev;
    field *d = get(r, "data_b64");
    if (arg_u64(r, "offset", 0, 0, &off))
        return -1;
    if (!d || d->type != J_STR)
        return fail("argument 'data_b64' must be a string");
    buf_t data = {0};
    if (b64_decode(d->s, d->slen, &data)) {
        buf_free(&data);
        return fail("data_b64 is not valid base64");
    }
    if (open_blockdev(r, O_WRONLY, &fd, &dev)) {
        buf_free(&data);
        return -1;
    }
    size_t done = 0;
    while (done < data.len) {
        ssize_t w = pwrite(fd, data.p + done, data.len - done, (off_t)(off + done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            close(fd);
            buf_free(&data);
            return fail("pwrite %s at %llu: %s", dev, (unsigned long long)(off + done), strerror(e));
        }
        done += (size_t)w;
    }
    int serr = fsync(fd) ? errno : 0;
    close(fd);
    buf_free(&data);
    if (serr)
        return fail("fsync %s: %s", dev, strerror(serr));
    buf_printf(res, "{\"size\":%zu}", done);
    return 0;
}

static int op_disk_read(req_t *r, buf_t *res)
{
    uint64_t off, len;
    int fd;
    const char *dev;
    if (arg_u64(r, "offset", 0, 0, &off) || arg_u64(r, "length", 1, 0, &len))
        return -1;
    if (len > MAX_IO)
        return fail("length may be at most %u", MAX_IO);
    if (open_blockdev(r, O_RDONLY, &fd, &dev))
        return -1;
    unsigned char *p = malloc(len ? len : 1);
    if (!p) {
        close(fd);
        return fail("out of memory");
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, p + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int e = errno;
            close(fd);
            free(p);
            return fail("pread %s: %s", dev, strerror(e));
        }
        if (n == 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    buf_puts(res, "{\"data_b64\":\"");
    b64_encode(res, p, done);
    buf_printf(res, "\",\"size\":%zu}", done);
    free(p);
    return 0;
}

static int op_list_disks(req_t *r, buf_t *res)
{
    (void)r;
    char mounts[16384] = "";
    read_small("/proc/mounts", mounts, sizeof mounts);
    buf_puts(res, "{\"disks\":[");
    struct dirent **ents = NULL;
    int n = scandir("/sys/block", &ents, NULL, by_name), emitted = 0;
    for (int i = 0; i < n; i++) {
        const char *nm = ents[i]->d_name;
        char path[512], v[256];
        if (nm[0] == '.' || !strncmp(nm, "loop", 4) || !strncmp(nm, "ram", 3)) {
            free(ents[i]);
            continue;
        }
        snprintf(path, sizeof path, "/sys/block/%s/size", nm);
        unsigned long long sectors = read_small(path, v, sizeof v) ? 0 : strtoull(v, NULL, 10);
        snprintf(path, sizeof path, "/sys/block/%s/ro", nm);
        int ro = read_small(path, v, sizeof v) ? 0 : atoi(v);
        buf_puts(res, emitted++ ? "," : "");
        buf_puts(res, "{\"name\":");
        json_cstr(res, nm);
        buf_printf(res, ",\"size\":%llu,\"ro\":%s", sectors * 512, ro ? "true" : "false");
        snprintf(path, sizeof path, "/sys/block/%s/serial", nm);
        if (!read_small(path, v, sizeof v) && v[0]) {
            buf_puts(res, ",\"serial\":");
            json_cstr(res, v);
        }
        /* mountpoint, from "/dev/NAME MOUNTPOINT ..." in /proc/mounts */
        char needle[300];
        snprintf(needle, sizeof needle, "/dev/%s ", nm);
        for (char *line = mounts; line && *line;) {
            char *nl = strchr(line, '\n');
            if (!strncmp(line, needle, strlen(needle))) {
                char *mp = line + strlen(needle);
                size_t l = strcspn(mp, " \n");
                buf_puts(res, ",\"mount\":");
                json_str(res, mp, l);
                break;
            }
            line = nl ? nl + 1 : NULL;
        }
        buf_puts(res, "}");
        free(ents[i]);
    }
    free(ents);
    buf_puts(res, "]}");
    return 0;
}

static uint64_t xorshift(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *s = x;
}

static void fill_random(unsigned char *p, size_t n, uint64_t *state)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v = xorshift(state);
        memcpy(p + i, &v, 8);
    }
    if (i < n) {
        uint64_t v = xorshift(state);
        memcpy(p + i, &v, n - i);
    }
}

static uint64_t seed_state(uint64_t seed) { return seed * 0x9e3779b97f4a7c15ULL + 0x632be59bd9b4e019ULL; }

static size_t mem_total(void)
{
    size_t t = 0;
    for (chunk *c = mem_chunks; c; c = c->next)
        t += c->size;
    return t;
}

static int op_workload(req_t *r, buf_t *res)
{
    const char *name;
    if (arg_str(r, "name", 1, &name))
        return -1;
    double t0 = now_ms();
    if (!strcmp(name, "fill-memory")) {
        uint64_t mib, seed;
        if (arg_u64(r, "mib", 1, 0, &mib) || arg_u64(r, "seed", 0, 1, &seed))
            return -1;
        if (mib == 0 || mib > 65536)
            return fail("mib must be 1..65536");
        chunk *c = calloc(1, sizeof *c);
        c->size = (size_t)mib << 20;
        c->seed = seed;
        c->data = malloc(c->size);
        if (!c->data) {
            free(c);
            return fail("cannot allocate %llu MiB", (unsigned long long)mib);
        }
        uint64_t st = seed_state(seed);
        fill_random(c->data, c->size, &st);
        c->next = mem_chunks;
        mem_chunks = c;
        int k = 0;
        for (chunk *x = mem_chunks; x; x = x->next)
            k++;
        buf_printf(res, "{\"name\":\"fill-memory\",\"mib\":%llu,\"total_mib\":%zu,\"chunks\":%d,\"elapsed_ms\":%.0f}",
                   (unsigned long long)mib, mem_total() >> 20, k, now_ms() - t0);
        return 0;
    }
    if (!strcmp(name, "check-memory")) {
        /* Regenerates each chunk's stream and compares: proves guest RAM
         * came through save/restore/cloning byte-for-byte. */
        int bad = 0, k = 0;
        unsigned char tmp[65536];
        for (chunk *c = mem_chunks; c; c = c->next, k++) {
            uint64_t st = seed_state(c->seed);
            for (size_t off = 0; off < c->size; off += sizeof tmp) {
                size_t n = c->size - off < sizeof tmp ? c->size - off : sizeof tmp;
                fill_random(tmp, n, &st);
                if (memcmp(tmp, c->data + off, n)) {
                    bad++;
                    break;
                }
            }
        }
        buf_printf(res, "{\"name\":\"check-memory\",\"intact\":%s,\"chunks\":%d,\"bad_chunks\":%d,\"total_mib\":%zu,\"elapsed_ms\":%.0f}",
                   bad ? "false" : "true", k, bad, mem_total() >> 20, now_ms() - t0);
        return 0;
    }
    if (!strcmp(name, "drop-memory")) {
        size_t t = mem_total();
        while (mem_chunks) {
            chunk *c = mem_chunks;
            mem_chunks = c->next;
            free(c->data);
            free(c);
        }
        buf_printf(res, "{\"name\":\"drop-memory\",\"freed_mib\":%zu}", t >> 20);
        return 0;
    }
    if (!strcmp(name, "write-files")) {
        const char *dir;
        uint64_t mib, seed;
        if (arg_str(r, "dir", 1, &dir) || arg_u64(r, "mib", 1, 0, &mib) || arg_u64(r, "seed", 0, 1, &seed))
            return -1;
        char probe[4096];
        snprintf(probe, sizeof probe, "%s/x", dir);
        if (check_lexical(probe) || safe_mkdir_p(dir) || check_path(probe, 1))
            return -1;
        /* Cycle text / random / zeros in 1 MiB-ish files of varying size so
         * the disk sees compressible, incompressible and sparse-able data. */
        uint64_t st = seed_state(seed);
        size_t total = (size_t)mib << 20, done = 0;
        int files = 0;
        size_t counts[3] = {0, 0, 0};
        static const char *kinds[] = {"text", "random", "zeros"};
        unsigned char *blk = malloc((1 << 20) + 256); /* slack for the last text line */
        while (done < total) {
            int kind = files % 3;
            size_t sz = (size_t)(256 << 10) + (size_t)(xorshift(&st) % (768u << 10));
            if (sz > total - done)
                sz = total - done;
            if (kind == 0) {
                size_t o = 0;
                while (o < sz) {
                    int l = snprintf((char *)blk + o, sz - o + 1 > 128 ? 128 : sz - o + 1,
                                     "line %zu of file %d: the quick brown fox %llu\n", o, files,
                                     (unsigned long long)(xorshift(&st) % 100000));
                    if (l <= 0)
                        break;
                    o += (size_t)l < sz - o ? (size_t)l : sz - o;
                }
            } else if (kind == 1) {
                fill_random(blk, sz, &st);
            } else {
                memset(blk, 0, sz);
            }
            char path[4200];
            snprintf(path, sizeof path, "%s/%s-%04d.bin", dir, kinds[kind], files);
            int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
            if (fd < 0 || write_all_fd(fd, (char *)blk, sz)) {
                int e = errno;
                if (fd >= 0)
                    close(fd);
                free(blk);
                return fail("write %s: %s", path, strerror(e));
            }
            close(fd);
            counts[kind] += sz;
            done += sz;
            files++;
        }
        free(blk);
        sync();
        buf_printf(res, "{\"name\":\"write-files\",\"dir\":");
        json_cstr(res, dir);
        buf_printf(res, ",\"files\":%d,\"bytes\":%zu,\"text_bytes\":%zu,\"random_bytes\":%zu,\"zero_bytes\":%zu,\"elapsed_ms\":%.0f}",
                   files, done, counts[0], counts[1], counts[2], now_ms() - t0);
        return 0;
    }
    return fail("unknown workload '%s' (fill-memory, check-memory, drop-memory, write-files)", name);
}

static int op_sync(req_t *r, buf_t *res)
{
    (void)r;
    sync();
    buf_puts(res, "{}");
    return 0;
}

static int op_shutdown(req_t *r, buf_t *res)
{
    (void)r;
    pending_power = POWER_OFF;
    buf_puts(res, "{\"action\":\"poweroff\"}");
    return 0;
}

static int op_reboot(req_t *r, buf_t *res)
{
    (void)r;
    pending_power = POWER_REBOOT;
    buf_puts(res, "{\"action\":\"reboot\"}");
    return 0;
}

/* The plaintext goes to shadow.c only: never into a reply, argv or a log. */
static int op_set_password(req_t *r, buf_t *res)
{
    const char *user, *password;
    if (arg_str(r, "user", 1, &user) || arg_str(r, "password", 1, &password))
        return -1;
    char e[ERRLEN];
    if (shadow_set_password(user, password, e, sizeof e))
        return fail("%s", e);
    buf_puts(res, "{\"user\":");
    json_cstr(res, user);
    buf_puts(res, ",\"scheme\":\"sha512-crypt\"}");
    return 0;
}

/* Whether the guest would accept a password for a user, as login checks it. */
static int op_check_password(req_t *r, buf_t *res)
{
    const char *user, *password;
    if (arg_str(r, "user", 1, &user) || arg_str(r, "password", 1, &password))
        return -1;
    char e[ERRLEN];
    int m = shadow_check_password(user, password, e, sizeof e);
    if (m < 0)
        return fail("%s", e);
    buf_printf(res, "{\"match\":%s}", m ? "true" : "false");
    return 0;
}

static const struct {
    const char *name;
    int (*fn)(req_t *, buf_t *);
} ops[] = {
    {"ping", op_ping},
    {"identity", op_identity},
    {"set-identity", op_set_identity},
    {"params", op_params},
    {"marker-set", op_marker_set},
    {"marker-get", op_marker_get},
    {"read-file", op_read_file},
    {"write-file", op_write_file},
    {"disk-write", op_disk_write},
    {"disk-read", op_disk_read},
    {"list-disks", op_list_disks},
    {"workload", op_workload},
    {"sync", op_sync},
    {"shutdown", op_shutdown},
    {"reboot", op_reboot},
    {"set-password", op_set_password},
    {"check-password", op_check_password},
};

/* For a request that fails to parse, still answer with its numeric id if
 * one is visible, so the host's pending call fails instead of timing out. */
static void salvage_id(const char *p, size_t n, char *out, size_t cap)
{
    const char *end = p + n, *k = memmem(p, n, "\"id\"", 4);
    if (!k)
        return;
    k += 4;
    while (k < end && isspace((unsigned char)*k)) k++;
    if (k >= end || *k++ != ':')
        return;
    while (k < end && isspace((unsigned char)*k)) k++;
    while (k + 1 < end && k[0] == '0' && isdigit((unsigned char)k[1])) k++; /* "08" is not JSON */
    size_t l = 0;
    while (k + l < end && l + 1 < cap && isdigit((unsigned char)k[l])) l++;
    if (l && (k + l == end || strchr(",} \t\r", k[l]))) {
        memcpy(out, k, l);
        out[l] = 0;
    }
}

/* Builds the full response line for one request line. */
static void handle_line(const char *line, size_t len, buf_t *out)
{
    char err[ERRLEN] = "";
    errbuf = err;
    parser ps = {line, line + len, ""};
    req_t r = {0};
    buf_t res = {0};
    int rc = -1;
    field *id = NULL;
    char out_id[32] = "";

    if (parse_object(&ps, &r.f, &r.n, 0) == 0) {
        skip_ws(&ps);
        if (ps.p != ps.end) {
            snprintf(err, sizeof err, "invalid JSON: trailing data");
        } else {
            id = get(&r, "id");
            const char *op;
            if (arg_str(&r, "op", 1, &op) == 0) {
                size_t i;
                for (i = 0; i < sizeof ops / sizeof ops[0]; i++)
                    if (!strcmp(ops[i].name, op))
                        break;
                if (i == sizeof ops / sizeof ops[0])
                    fail("unknown op '%s'", op);
                else
                    rc = ops[i].fn(&r, &res);
            }
        }
    } else {
        snprintf(err, sizeof err, "%s", ps.err);
        salvage_id(line, len, out_id, sizeof out_id);
    }

    buf_puts(out, "{\"id\":");
    if (out_id[0])
        buf_puts(out, out_id);
    else if (id && id->type == J_STR)
        json_str(out, id->s, id->slen);
    else if (id && (id->type == J_NUM || id->type == J_NULL))
        buf_put(out, id->s, id->slen);
    else
        buf_puts(out, "null");
    if (rc == 0) {
        buf_puts(out, ",\"ok\":true,\"result\":");
        buf_put(out, res.p ? res.p : "{}", res.p ? res.len : 2);
    } else {
        buf_puts(out, ",\"ok\":false,\"error\":");
        json_cstr(out, err[0] ? err : "unknown error");
    }
    buf_puts(out, "}\n");
    buf_free(&res);
    free_fields(r.f, r.n);
}

/* ------------------------------------------------------------------ */
/* virtio-serial transport                                             */

static int find_port(char *dev, size_t cap)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) {
        char path[512], name[256];
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "/sys/class/virtio-ports/%s/name", e->d_name);
        if (read_small(path, name, sizeof name) == 0 && !strcmp(name, PORT_NAME)) {
            snprintf(dev, cap, "/dev/%s", e->d_name);
            found = 1;
            break;
        }
    }
    if (d)
        closedir(d);
    return found ? 0 : -1;
}

/* Non-blocking write: virtio-serial blocks writers while the host end is
 * disconnected, which would wedge the agent across a save/restore.
 * "Host disconnected" is only trusted after a grace period: right after a
 * restore (or a fresh connect) a request can arrive on the data queue before
 * the PORT_OPEN control message that marks the host connected again. */
static int send_all(int fd, const char *p, size_t n)
{
    double deadline = now_ms() + 30000, hup_since = 0;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            deadline = now_ms() + 30000;
            hup_since = 0;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
            return -1;
        struct pollfd pf = {fd, POLLOUT, 0};
        poll(&pf, 1, 100);
        if ((pf.revents & POLLHUP) && !(pf.revents & POLLOUT)) {
            if (!hup_since)
                hup_since = now_ms();
            if (now_ms() - hup_since > 3000)
                return -1; /* host really went away: the reply has no reader */
            usleep(20000); /* POLLHUP is level-triggered: don't spin */
        }
        if (now_ms() > deadline)
            return -1;
    }
    return 0;
}

static void mark_ready(const char *what)
{
    mkdir_p(RUN_DIR);
    int fd = open(RUN_DIR "/agent.ready", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        write_all_fd(fd, what, strlen(what));
        close(fd);
    }
}

static void do_power(int action)
{
    sync();
    umount2("/data", MNT_DETACH);
    sync();
    reboot(action == POWER_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF);
}

static __attribute__((noreturn)) void power_button_main(void)
{
    /* KEY_POWER from the ACPI button driver (LNXPWRBN) arrives as an evdev
     * event; that is all `virsh shutdown` / QMP system_powerdown produce. */
    for (;;) {
        struct pollfd pf[32];
        int n = 0;
        DIR *d = opendir("/dev/input");
        struct dirent *e;
        while (d && (e = readdir(d)) && n < 32) {
            if (strncmp(e->d_name, "event", 5))
                continue;
            char path[300];
            snprintf(path, sizeof path, "/dev/input/%s", e->d_name);
            int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
            if (fd >= 0)
                pf[n++] = (struct pollfd){fd, POLLIN, 0};
        }
        if (d)
            closedir(d);
        double rescan = now_ms() + (n ? 60000 : 2000);
        while (now_ms() < rescan) {
            if (poll(pf, (nfds_t)n, 1000) <= 0)
                continue;
            for (int i = 0; i < n; i++) {
                struct input_event ev[16];
                ssize_t r = (pf[i].revents & POLLIN) ? read(pf[i].fd, ev, sizeof ev) : 0;
                for (ssize_t k = 0; k < r / (ssize_t)sizeof ev[0]; k++) {
                    if (ev[k].type == EV_KEY && ev[k].code == KEY_POWER && ev[k].value == 1) {
                        fprintf(stderr, "virtplug-agent: power button pressed, powering off\n");
                        do_power(POWER_OFF);
                    }
                }
            }
        }
        for (int i = 0; i < n; i++)
            close(pf[i].fd);
    }
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && !strcmp(argv[1], "--power-button"))
        power_button_main();
    sigset_t sigio;
    sigemptyset(&sigio);
    sigaddset(&sigio, SIGIO);
    sigprocmask(SIG_BLOCK, &sigio, NULL); /* consumed with sigtimedwait only */
    /* --stdio: same protocol on stdin/stdout, for testing on the host */
    int stdio = argc > 1 && !strcmp(argv[1], "--stdio");

    char dev[300] = "";
    int fd = -1;
    double started = now_ms();
    int ready_marked = 0;
    buf_t in = {0}, out = {0};
    int discarding = 0;

    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ; /* detached helpers such as arping */

        if (fd < 0 && stdio) {
            fd = 0;
            ready_marked = 1;
        }
        if (fd < 0) {
            if (find_port(dev, sizeof dev) == 0)
                fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
            if (fd < 0) {
                /* The port shows up asynchronously after virtio_console loads;
                 * don't hold up boot forever if the VM has no agent channel. */
                if (!ready_marked && now_ms() - started > 3000) {
                    mark_ready("no-port\n");
                    ready_marked = 1;
                    fprintf(stderr, "virtplug-agent: port " PORT_NAME " not found yet, still looking\n");
                }
                usleep(100000);
                continue;
            }
            /* SIGIO on host connect/disconnect and on data lets the idle,
             * disconnected agent sleep instead of polling (POLLHUP is
             * level-triggered while the host is away). */
            fcntl(fd, F_SETOWN, getpid());
            fcntl(fd, F_SETFL, O_NONBLOCK | O_ASYNC);
            fprintf(stderr, "virtplug-agent: serving on %s\n", dev);
            in.len = 0;
            discarding = 0;
            if (!ready_marked) {
                mark_ready("port\n");
                ready_marked = 1;
            }
        }

        struct pollfd pf = {fd, POLLIN, 0};
        int pr = poll(&pf, 1, 1000);
        if (pr < 0 && errno != EINTR) {
            usleep(50000);
            continue;
        }
        if (pr <= 0)
            continue;

        char tmp[65536];
        ssize_t n = read(fd, tmp, sizeof tmp);
        if (n == 0 && stdio)
            return 0;
        if (n == 0) {
            /* Host not connected (between clients, or while saved): drop any
             * half-received request and wait for the next client. */
            in.len = 0;
            discarding = 0;
            struct timespec ts = {1, 0}; /* safety net in case a SIGIO is missed */
            sigtimedwait(&sigio, NULL, &ts);
            continue;
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            fprintf(stderr, "virtplug-agent: read %s: %s; reopening\n", dev, strerror(errno));
            close(fd);
            fd = -1;
            usleep(100000);
            continue;
        }

        size_t start = in.len;
        buf_put(&in, tmp, (size_t)n);
        size_t consumed = 0;
        for (size_t i = start; i < in.len; i++) {
            if (in.p[i] != '\n')
                continue;
            size_t llen = i - consumed;
            const char *line = in.p + consumed;
            if (llen && line[llen - 1] == '\r')
                llen--;
            if (!discarding && llen) {
                out.len = 0;
                handle_line(line, llen, &out);
                if (send_all(stdio ? 1 : fd, out.p, out.len))
                    fprintf(stderr, "virtplug-agent: reply dropped (host disconnected)\n");
                if (pending_power) {
                    int a = pending_power;
                    pending_power = POWER_NONE;
                    usleep(200000); /* let the reply drain to the host */
                    do_power(a);
                }
                if (out.cap > (1u << 20)) /* don't keep a huge reply buffer */
                    buf_free(&out);
            }
            discarding = 0;
            consumed = i + 1;
        }
        if (consumed) {
            memmove(in.p, in.p + consumed, in.len - consumed);
            in.len -= consumed;
        }
        if (in.len > MAX_LINE) {
            static const char msg[] = "{\"id\":null,\"ok\":false,\"error\":\"request line too long\"}\n";
            if (!discarding)
                send_all(stdio ? 1 : fd, msg, sizeof msg - 1);
            discarding = 1;
            in.len = 0;
        }
        if (in.len == 0 && in.cap > (1u << 20))
            buf_free(&in);
    }
}
