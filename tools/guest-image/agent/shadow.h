#ifndef VIRTPLUG_SHADOW_H
#define VIRTPLUG_SHADOW_H
#include <stddef.h>

/* Sets `user`'s password (a SHA-512 crypt hash in /etc/shadow, written
 * atomically, mode 0600). 0, or -1 with a message in `err`. */
int shadow_set_password(const char *user, const char *password, char *err, size_t errlen);

/* 1 if `password` is `user`'s stored one, 0 if not (or none is set), -1
 * with a message in `err`. */
int shadow_check_password(const char *user, const char *password, char *err, size_t errlen);

#endif
