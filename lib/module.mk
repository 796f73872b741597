# lib: the shared C library, built into one static archive that every host
# binary, unit test and fuzz target links. $(LIBWF) is its path.
# Every lib/*.c is a module of it, and so is every lib/runner/*.c (the guest
# runners, shared by the agent and the CLI): a new module needs no edit here.

LIB_SRCS := $(sort $(wildcard lib/*.c lib/runner/*.c))
LIB_OBJS := $(LIB_SRCS:%.c=$(HOBJ)/%.o)
LIBWF    := $(HOBJ)/libwakefarm.a

# Remove first: "ar r" would otherwise keep members of deleted sources.
$(LIBWF): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	@rm -f $@
	$(AR) rcs $@ $^

ALL_TARGETS += $(LIBWF)
