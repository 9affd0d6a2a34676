/* SPDX-License-Identifier: GPL-2.0 */
/* tierctl run — placeholder until its owner lands the real command. */
#include <errno.h>
#include "tierctl.h"

int cmd_run(int argc, char **argv, const struct tierctl_opts *o)
{
	tierctl_err(o, "run: not built yet");
	return -ENOSYS;
}
