/*
 * set-password for the virtplug guest agent: a user's password as a
 * SHA-512 crypt hash ($6$, what busybox login and su verify) in /etc/shadow;
 * check-password answers whether a password is the one stored (as login would).
 * Kept apart from agent.c because it is the only part that handles a secret:
 * the plaintext never reaches argv, the environment, a log or a reply, and
 * the crypt buffers are wiped after use. Linked with -lcrypt (libxcrypt).
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "shadow.h"

#define PASSWD_FILE "/etc/passwd"
#define SHADOW_FILE "/etc/shadow"
#define MAX_FILE (256 * 1024)

static int err(char *e, size_t n, const char *msg, const char *arg)
{
    snprintf(e, n, msg, arg);
    return -1;
}

static int valid_user(const char *u)
{
    size_t n = strlen(u);
    if (n == 0 || n > 32 || !((u[0] >= 'a' && u[0] <= 'z') || u[0] == '_'))
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = u[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* The whole of a small file ("" if it does not exist); NULL on error. */
static char *slurp(const char *path, int *missing)
{
    *missing = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = 1;
            return calloc(1, 1);
        }
        return NULL;
    }
    char *buf = malloc(MAX_FILE + 1);
    size_t len = 0;
    ssize_t r;
    while (buf && len < MAX_FILE && (r = read(fd, buf + len, MAX_FILE - len)) > 0)
        len += (size_t)r;
    close(fd);
    if (!buf || len >= MAX_FILE) {
        free(buf);
        return NULL;
    }
    buf[len] = 0;
    return buf;
}

/* Whether `text` (passwd or shadow format) has a line for `user`. */
static const char *line_of(const char *text, const char *user)
{
    size_t n = strlen(user);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (!strncmp(p, user, n) && p[n] == ':')
            return p;
    return NULL;
}

static int hash_password(const char *password, char *out, size_t cap)
{
    static const char alphabet[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char rnd[16];
    if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
        return -1;
    char setting[3 + sizeof rnd + 2] = "$6$";
    for (size_t i = 0; i < sizeof rnd; i++)
        setting[3 + i] = alphabet[rnd[i] % 64];
    setting[3 + sizeof rnd] = '$';
    setting[4 + sizeof rnd] = 0;
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return -1;
    const char *h = crypt_r(password, setting, cd);
    int ok = h && h[0] == '$' && strlen(h) < cap;
    if (ok)
        strcpy(out, h);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return ok ? 0 : -1;
}

int shadow_set_password(const char *user, const char *password, char *e, size_t elen)
{
    if (!valid_user(user))
        return err(e, elen, "user '%s' is not a valid user name", user);
    size_t plen = strlen(password);
    if (plen == 0 || plen > 1024)
        return err(e, elen, "the password must be 1 to 1024 bytes%s", "");
    int missing;
    char *passwd = slurp(PASSWD_FILE, &missing);
    if (!passwd)
        return err(e, elen, "cannot read %s", PASSWD_FILE);
    int known = line_of(passwd, user) != NULL;
    free(passwd);
    if (!known)
        return err(e, elen, "no user '%s' in /etc/passwd", user);

    char hash[256];
    if (hash_password(password, hash, sizeof hash))
        return err(e, elen, "crypt failed for user '%s'", user);

    char *shadow = slurp(SHADOW_FILE, &missing);
    if (!shadow)
        return err(e, elen, "cannot read %s", SHADOW_FILE);
    size_t cap = strlen(shadow) + strlen(user) + sizeof hash + 64;
    char *next = malloc(cap);
    if (!next) {
        free(shadow);
        return err(e, elen, "out of memory%s", "");
    }
    const char *old = line_of(shadow, user);
    size_t len = 0;
    if (old) {
        /* Replace field 2 of the user's line, keep the rest of it and of the file. */
        const char *f2 = strchr(old, ':') + 1, *f3 = strchr(f2, ':');
        const char *eol = strchr(old, '\n');
        if (!f3 || (eol && f3 > eol)) {
            free(shadow);
            free(next);
            return err(e, elen, "malformed /etc/shadow line for '%s'", user);
        }
        len += (size_t)snprintf(next, cap, "%.*s%s%s", (int)(f2 - shadow), shadow, hash, f3);
    } else {
        long days = (long)(time(NULL) / 86400);
        len += (size_t)snprintf(next, cap, "%s%s%s:%s:%ld:0:99999:7:::\n", shadow, (*shadow && shadow[strlen(shadow) - 1] != '\n') ? "\n" : "", user, hash, days);
    }
    free(shadow);
    explicit_bzero(hash, sizeof hash);

    char tmp[64];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", SHADOW_FILE, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    int ok = fd >= 0 && write(fd, next, len) == (ssize_t)len && fsync(fd) == 0;
    if (fd >= 0)
        ok = close(fd) == 0 && ok;
    explicit_bzero(next, len);
    free(next);
    if (!ok || rename(tmp, SHADOW_FILE)) {
        unlink(tmp);
        return err(e, elen, "cannot write %s", SHADOW_FILE);
    }
    return 0;
}

int shadow_check_password(const char *user, const char *password, char *e, size_t elen)
{
    if (!valid_user(user))
        return err(e, elen, "user '%s' is not a valid user name", user);
    int missing;
    char *shadow = slurp(SHADOW_FILE, &missing);
    if (!shadow)
        return err(e, elen, "cannot read %s", SHADOW_FILE);
    const char *line = line_of(shadow, user);
    const char *f2 = line ? strchr(line, ':') + 1 : NULL, *f3 = f2 ? strchr(f2, ':') : NULL;
    if (!f3 || f3 - f2 >= 256 || f2[0] != '$') {
        free(shadow);
        return 0; /* no password set: nothing matches */
    }
    char stored[256];
    memcpy(stored, f2, (size_t)(f3 - f2));
    stored[f3 - f2] = 0;
    free(shadow);
    struct crypt_data *cd = calloc(1, sizeof *cd);
    if (!cd)
        return err(e, elen, "out of memory%s", "");
    const char *h = crypt_r(password, stored, cd);
    size_t n = strlen(stored);
    unsigned char diff = !h || strlen(h) != n;
    for (size_t i = 0; !diff && i < n; i++)
        diff |= (unsigned char)(h[i] ^ stored[i]);
    explicit_bzero(cd, sizeof *cd);
    free(cd);
    return diff ? 0 : 1;
}
