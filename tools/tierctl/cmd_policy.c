/* SPDX-License-Identifier: GPL-2.0 */
/* tierctl policy — placeholder until its owner lands the real command. */
#include <errno.h>
#include "tierctl.h"

int cmd_policy(int argc, char **argv, const struct tierctl_opts *o)
{
	tierctl_err(o, "policy: not built yet");
	return -ENOSYS;
}
