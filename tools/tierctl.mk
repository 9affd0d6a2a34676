# tools/tierctl.mk — tierctl, the command line for tierd. cmd_run.c and
# cmd_policy.c belong to the pager and policy engineers; they are linked here.
TIERCTL_SRCS := tools/tierctl/main.c tools/tierctl/client.c tools/tierctl/cmd_attach.c \
	tools/tierctl/cmd_status.c tools/tierctl/cmd_events.c tools/tierctl/cmd_run.c \
	tools/tierctl/cmd_policy.c controller/cgroup.c pager/lib/options.c
TIERCTL_SRCS += $(POLICY_SRCS) # the policy engine, for tierctl policy check
$(eval $(call program,tierctl,$(TIERCTL_SRCS),-ljson-c))
