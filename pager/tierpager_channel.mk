# pager/tierpager_channel.mk — libtierpager's channel to tierd (channel.c)
# and the hint-fault sampler (hint.c). The objects are extra prerequisites
# of libtierpager.so, whose link recipe takes all of them ($^), so
# pager/tierpager.mk stays as it is. Sorts after tierpager.mk.
$(LIB)/libtierpager.so: $(OBJ)/pager/lib/channel.o $(OBJ)/pager/lib/hint.o
# programs that link the pager themselves get the channel too
PAGER_SRCS += pager/lib/channel.c pager/lib/hint.c
