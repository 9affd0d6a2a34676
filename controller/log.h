/* SPDX-License-Identifier: GPL-2.0 */
/* log.h — tierd logs to stderr (systemd-friendly), one line per event. */
#ifndef TIERD_LOG_H
#define TIERD_LOG_H

#ifdef __BPF__
#error "log.h is user-space only"
#endif

#include <stdio.h>

extern int tierd_verbose;

#define log_err(fmt, ...) fprintf(stderr, "tierd: error: " fmt "\n", ##__VA_ARGS__)
#define log_warn(fmt, ...) fprintf(stderr, "tierd: warning: " fmt "\n", ##__VA_ARGS__)
#define log_info(fmt, ...) fprintf(stderr, "tierd: " fmt "\n", ##__VA_ARGS__)
#define log_debug(fmt, ...)                                                        \
	do {                                                                       \
		if (tierd_verbose)                                                 \
			fprintf(stderr, "tierd: debug: " fmt "\n", ##__VA_ARGS__); \
	} while (0)

#endif /* TIERD_LOG_H */
