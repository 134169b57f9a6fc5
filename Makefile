# changetrace build. Out of tree into build/; `make V=1` shows commands.
# SANITIZE=1: ASan/UBSan build of the agent, CLI and unit tests, in a tree
# of its own so plain and sanitized objects never mix.
ifeq ($(SANITIZE),1)
BUILD     ?= build/san
endif
BUILD     ?= build
CC        ?= cc
CLANG     ?= clang
BPFTOOL   ?= bpftool
PROTOC_C  ?= protoc-c
PKGS      := libbpf libelf zlib libprotobuf-c libcrypto libnftables libcurl libsystemd jansson
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q :=
msg = @true
else
Q := @
msg = @printf '  %-8s %s\n' $(1) $(2);
endif

CFLAGS    ?= -O2 -g
CFLAGS    += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
             -Iinclude -Iuser -I$(BUILD) -I$(BUILD)/proto $(shell pkg-config --cflags $(PKGS))
# header dependencies, recorded by the compiler next to each object (the
# object is touched after, so it is never older than its .d)
DEPFLAGS  := -MMD -MP
LDLIBS    += $(shell pkg-config --libs $(PKGS))

ifeq ($(SANITIZE),1)
CFLAGS    += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
export ASAN_OPTIONS ?= abort_on_error=0:detect_leaks=1
export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1
endif

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
# user/: one folder per role (agent, collector, guard, store, export, cli,
# lib) plus main.c, the command table
USER_SRCS := $(wildcard user/*.c user/*/*.c)
USER_OBJS := $(patsubst user/%.c,$(BUILD)/obj/%.o,$(USER_SRCS))
PROTOS    := $(wildcard proto/*.proto)
PROTO_HDRS := $(patsubst proto/%.proto,$(BUILD)/proto/%.pb-c.h,$(PROTOS))
PROTO_OBJ := $(patsubst proto/%.proto,$(BUILD)/obj/%.pb-c.o,$(PROTOS))
LIB_OBJS  := $(filter-out $(BUILD)/obj/main.o,$(USER_OBJS)) $(PROTO_OBJ)

TEST_UNIT_SRCS := $(wildcard tests/unit/*.c)
TEST_PROG_SRCS := $(wildcard tests/progs/*.c)
TEST_PROGS     := $(patsubst tests/progs/%.c,$(BUILD)/tests/%,$(TEST_PROG_SRCS))
# test programs built on the agent's own code (store API, protobuf)
TEST_LIB_PROGS := $(BUILD)/tests/ct_pbdecode $(BUILD)/tests/ct_store_bench

# libFuzzer harnesses (tests/fuzz): the product code rebuilt with clang and
# coverage + ASan/UBSan into $(BUILD)/fuzz. `make fuzz` runs each for
# FUZZ_SECONDS; `make test` runs each briefly (tests/e2e/test_fuzz.sh).
FUZZ_SECONDS ?= 60
FUZZ_DIR   := $(BUILD)/fuzz
FUZZ_SRCS  := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS  := $(patsubst tests/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRCS))
FUZZ_OBJS  := $(patsubst $(BUILD)/obj/%,$(FUZZ_DIR)/obj/%,$(LIB_OBJS))
FUZZ_CFLAGS := -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
               -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE -Wall -Wno-unused-parameter \
               -Iinclude -Iuser -I$(BUILD) -I$(BUILD)/proto $(shell pkg-config --cflags $(PKGS))

.PHONY: all deps run test bench fuzz fuzzers valgrind clean
all: $(BUILD)/changetrace

deps:
	$(Q)tools/install-deps.sh

$(BUILD)/vmlinux.h:
	$(call msg,GEN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BUILD)/bpf/%.bpf.d $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -target bpf -g -O2 -D__TARGET_ARCH_$(ARCH) -Wall -Werror $(DEPFLAGS) \
		-Iinclude -Ibpf -I$(BUILD) -c $< -o $@ && touch $@

# All probe files link into one object (shared maps), one skeleton.
$(BUILD)/changetrace.bpf.o: $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(BUILD)/changetrace.skel.h: $(BUILD)/changetrace.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name changetrace_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h: proto/%.proto
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(BUILD)/proto
	$(Q)$(PROTOC_C) --proto_path=proto --c_out=$(BUILD)/proto $<

$(BUILD)/obj/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Wno-unused-parameter -c $< -o $@

# generated headers first; -MMD then records which object needs which
$(BUILD)/obj/%.o: user/%.c $(BUILD)/obj/%.d | $(BUILD)/changetrace.skel.h $(PROTO_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -c $< -o $@ && touch $@

$(BUILD)/changetrace: $(USER_OBJS) $(PROTO_OBJ)
	$(call msg,LD,$@)
	$(Q)$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/tests/unit_tests: $(TEST_UNIT_SRCS) $(LIB_OBJS) $(wildcard tests/unit/*.h user/*/*.h)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $(filter %.c %.o,$^) $(LDLIBS) -o $@

.PRECIOUS: $(BUILD)/proto/%.pb-c.c $(BUILD)/proto/%.pb-c.h

$(BUILD)/tests/%: tests/progs/%.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< -lpthread -o $@

$(TEST_LIB_PROGS): $(BUILD)/tests/%: tests/progs/%.c $(LIB_OBJS)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/bench/ct_load: tools/bench/ct_load.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LDLIBS) -o $@

# empty programs at the agent's hooks: the bench's floor
$(BUILD)/bench/ct_hooks.bpf.o: tools/bench/ct_hooks.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) -target bpf -g -O2 -D__TARGET_ARCH_$(ARCH) -Wall -Werror -I$(BUILD) -c $< -o $@

$(BUILD)/bench/ct_hooks: tools/bench/ct_hooks.c $(BUILD)/bench/ct_hooks.bpf.o $(BUILD)/changetrace.bpf.o
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $< $(LDLIBS) -o $@

# the unwatched path finely interleaved: none, empty hooks, the agent's programs
$(BUILD)/bench/ct_hookcost: tools/bench/ct_hookcost.c $(BUILD)/bench/ct_hooks.bpf.o $(BUILD)/changetrace.skel.h
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -I$(BUILD) $(LDFLAGS) $< $(LDLIBS) -o $@

# overhead side by side (tools/bench/bench.sh), then the store's figures, then
# the start-up comparison of 20,000 watched files (unobserved_bench.sh)
bench: deps all $(BUILD)/bench/ct_load $(BUILD)/bench/ct_hooks $(BUILD)/bench/ct_hookcost $(BUILD)/tests/ct_store_bench
	$(Q)BUILD=$(abspath $(BUILD)) tools/bench/bench.sh
	$(Q)BUILD=$(abspath $(BUILD)) tools/bench/store_bench.sh $(BENCH_EVENTS)
	$(Q)BUILD=$(abspath $(BUILD)) tools/bench/unobserved_bench.sh

$(FUZZ_DIR)/obj/%.o: user/%.c $(FUZZ_DIR)/obj/%.d | $(BUILD)/changetrace.skel.h $(PROTO_HDRS)
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(DEPFLAGS) -fsanitize=fuzzer-no-link -c $< -o $@ && touch $@

$(FUZZ_DIR)/obj/%.pb-c.o: $(BUILD)/proto/%.pb-c.c
	$(call msg,CC-FUZZ,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call msg,LD-FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ $(LDLIBS) -o $@

# the encoders' harness checks their output with another library's strict
# JSON and UTF-8 decoder (jansson)
$(FUZZ_DIR)/fuzz_encoders: LDLIBS += $(shell pkg-config --libs jansson)

.SECONDARY: $(FUZZ_OBJS)
fuzzers: $(FUZZ_BINS)

# each harness for FUZZ_SECONDS, corpus kept in $(FUZZ_DIR)/corpus/NAME
fuzz: deps all fuzzers $(BUILD)/tests/ct_store_bench
	$(Q)BUILD=$(abspath $(BUILD)) FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

# unit tests and the CLI's store readers under valgrind (memcheck)
valgrind: deps all $(BUILD)/tests/unit_tests $(BUILD)/tests/ct_store_bench
	$(Q)BUILD=$(abspath $(BUILD)) tests/valgrind.sh

run: deps all
	$(BUILD)/changetrace agent

test: deps all $(BUILD)/tests/unit_tests $(TEST_PROGS) fuzzers $(BUILD)/bench/ct_hooks $(BUILD)/bench/ct_hookcost
	$(Q)BUILD=$(abspath $(BUILD)) tests/run.sh

clean:
	rm -rf $(BUILD)

# An object whose .d is missing (a tree built before dependency tracking,
# or a .d removed by hand) is rebuilt, never trusted blindly.
DEPFILES := $(USER_OBJS:.o=.d) $(BPF_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d)
$(DEPFILES):
-include $(wildcard $(DEPFILES))

# ---------------------------------------------------------------------------
# install, uninstall, man pages, Debian package
#
# `make install` honours DESTDIR and PREFIX (and the finer prefix, sbindir,
# sysconfdir, mandir, ... below). It installs the binary, the agent's config
# file, the example guardrail policies (the exec rules' from docs/examples),
# the systemd unit (made for sbindir and sysconfdir), a tmpfiles.d entry
# for /run/changetrace, the man pages
# (generated from the binary's own --help: dist/man/gen-man.sh) and bash
# completion. An edited config file is never overwritten or removed.
# `make deb` builds the Debian package (debian/, dpkg-buildpackage) from a
# copy of the sources in $(BUILD)/deb, then runs lintian on it.
PREFIX         ?= /usr/local
prefix         ?= $(PREFIX)
exec_prefix    ?= $(prefix)
sbindir        ?= $(exec_prefix)/sbin
sysconfdir     ?= /etc
datarootdir    ?= $(prefix)/share
mandir         ?= $(datarootdir)/man
docdir         ?= $(datarootdir)/doc/changetrace
systemdunitdir ?= $(prefix)/lib/systemd/system
tmpfilesdir    ?= $(prefix)/lib/tmpfiles.d
bashcompdir    ?= $(datarootdir)/bash-completion/completions
INSTALL        ?= install
# create the system group the config names (not when staging into DESTDIR)
INSTALL_GROUP  ?= $(if $(DESTDIR),no,yes)
CT_VERSION_STR := $(shell sed -n 's/^\#define CT_VERSION "\(.*\)"/\1/p' user/lib/util.h)
CONF_DIR       := $(DESTDIR)$(sysconfdir)/changetrace

.PHONY: man install uninstall deb
man: $(BUILD)/man/.stamp
$(BUILD)/man/.stamp: $(BUILD)/changetrace dist/man/gen-man.sh $(wildcard dist/man/*.h2m)
	$(call msg,MAN,$(BUILD)/man)
	$(Q)rm -rf $(BUILD)/man
	$(Q)dist/man/gen-man.sh $(abspath $(BUILD)/changetrace) $(BUILD)/man $(CT_VERSION_STR)
	$(Q)touch $@

install: all man
	$(INSTALL) -d $(DESTDIR)$(sbindir) $(CONF_DIR) $(DESTDIR)$(docdir)/examples \
		$(DESTDIR)$(systemdunitdir) $(DESTDIR)$(tmpfilesdir) $(DESTDIR)$(mandir)/man8 \
		$(DESTDIR)$(bashcompdir)
	$(INSTALL) -m 0755 $(BUILD)/changetrace $(DESTDIR)$(sbindir)/changetrace
	@if [ -e $(CONF_DIR)/changetrace.conf ] && ! cmp -s dist/changetrace.conf $(CONF_DIR)/changetrace.conf; then \
		echo "install: keeping the edited $(CONF_DIR)/changetrace.conf; the new one is changetrace.conf.new"; \
		$(INSTALL) -m 0644 dist/changetrace.conf $(CONF_DIR)/changetrace.conf.new; \
	else \
		$(INSTALL) -m 0644 dist/changetrace.conf $(CONF_DIR)/changetrace.conf; \
	fi
	$(INSTALL) -m 0644 dist/guardrail.policy $(DESTDIR)$(docdir)/examples/guardrail.policy
	$(INSTALL) -m 0644 docs/examples/exec-guard.policy $(DESTDIR)$(docdir)/examples/exec-guard.policy
	sed -e 's|@SBINDIR@|$(sbindir)|g' -e 's|@SYSCONFDIR@|$(sysconfdir)|g' dist/changetrace.service.in \
		> $(DESTDIR)$(systemdunitdir)/changetrace.service
	chmod 0644 $(DESTDIR)$(systemdunitdir)/changetrace.service
	$(INSTALL) -m 0644 dist/changetrace.tmpfiles $(DESTDIR)$(tmpfilesdir)/changetrace.conf
	$(INSTALL) -m 0644 $(BUILD)/man/*.8 $(DESTDIR)$(mandir)/man8/
	$(INSTALL) -m 0644 dist/changetrace.bash-completion $(DESTDIR)$(bashcompdir)/changetrace
	@# the config's `group changetrace`: on the live system only (a package makes its own)
	@if [ "$(INSTALL_GROUP)" = yes ] && ! getent group changetrace >/dev/null; then \
		echo "install: creating the system group changetrace"; groupadd --system changetrace; \
	fi

uninstall:
	rm -f $(DESTDIR)$(sbindir)/changetrace $(DESTDIR)$(docdir)/examples/guardrail.policy \
		$(DESTDIR)$(docdir)/examples/exec-guard.policy \
		$(DESTDIR)$(systemdunitdir)/changetrace.service $(DESTDIR)$(tmpfilesdir)/changetrace.conf \
		$(DESTDIR)$(mandir)/man8/changetrace.8 $(DESTDIR)$(mandir)/man8/changetrace-*.8 \
		$(DESTDIR)$(bashcompdir)/changetrace $(CONF_DIR)/changetrace.conf.new
	@if [ -e $(CONF_DIR)/changetrace.conf ] && ! cmp -s dist/changetrace.conf $(CONF_DIR)/changetrace.conf; then \
		echo "uninstall: keeping the edited $(CONF_DIR)/changetrace.conf"; \
	else rm -f $(CONF_DIR)/changetrace.conf; fi
	@rmdir $(CONF_DIR) $(DESTDIR)$(docdir)/examples $(DESTDIR)$(docdir) 2>/dev/null || true

DEB_DIR := $(BUILD)/deb
DEB_SRC := Makefile README.md bpf include user proto dist debian docs/examples
deb:
	$(call msg,DEB,$(DEB_DIR))
	$(Q)rm -rf $(DEB_DIR) && mkdir -p $(DEB_DIR)/changetrace-$(CT_VERSION_STR)
	$(Q)tar -c $(DEB_SRC) | tar -x -C $(DEB_DIR)/changetrace-$(CT_VERSION_STR)
	$(Q)cd $(DEB_DIR)/changetrace-$(CT_VERSION_STR) && \
		dpkg-buildpackage -b -us -uc $(if $(filter 1,$(V)),,>../build.log 2>&1) || \
		{ tail -n 40 ../build.log; exit 1; }
	$(Q)lintian --fail-on error $(DEB_DIR)/*.changes
	$(Q)ls $(DEB_DIR)/*.deb
