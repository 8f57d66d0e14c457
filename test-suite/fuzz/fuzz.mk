# fuzz.mk - build and run the libFuzzer targets.  GNU make; `make fuzz`
# at the top level runs it in $(top_builddir)/test-suite/fuzz with every
# variable below set (see the fuzz section of Makefile.am), so nothing is
# written into the source tree.
#
# Each target links its own copy of the modules under test, compiled here
# by clang with coverage (-fsanitize=fuzzer-no-link), ASan and UBSan: the
# objects of the ordinary build are gcc's and uninstrumented.

# From the caller: FUZZ_CC top_srcdir top_builddir LLHTTP_CFLAGS
# WARN_CFLAGS FUZZ_TARGETS FUZZ_SECONDS, PROXY_CFLAGS and PROXY_LIBS
# (c-ares, OpenSSL, libev: what the proxy target links besides), and
# LLHTTP_SRCDIR (llhttp built from sources) or LLHTTP_LIBS (a system
# libllhttp).

S := $(top_srcdir)/src
F := $(top_srcdir)/test-suite/fuzz

SAN := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer
FUZZ_CFLAGS := -std=gnu11 -g -O1 $(SAN) -I$(S) -I$(top_builddir) \
	$(LLHTTP_CFLAGS) $(PROXY_CFLAGS)

# The modules the targets reach (all of src/http, whatever its files are
# called this week), and what they need below them.
LIB_SRCS := base/log.c conf/conf.c \
	$(patsubst $(S)/%,%,$(sort $(wildcard $(S)/http/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=obj/src/%.o)
ifneq ($(LLHTTP_SRCDIR),)
LIB_OBJS += obj/llhttp/api.o obj/llhttp/http.o obj/llhttp/llhttp.o
endif

# The proxy target: every module but main.c and daemon.c, and the two
# tables src/Makefile generates (the caller has it make them).
PROXY_GEN := client/errpage_tbl.c mgr/mgr_page_dashboard_tbl.c
PROXY_SRCS := $(filter-out main.c daemon.c $(PROXY_GEN),$(patsubst \
	$(S)/%,%,$(sort $(wildcard $(S)/*.c $(S)/*/*.c))))
PROXY_OBJS := $(PROXY_SRCS:%.c=obj/src/%.o) obj/gen/errpage_tbl.o \
	obj/gen/mgr_page_dashboard_tbl.o
ifneq ($(LLHTTP_SRCDIR),)
PROXY_OBJS += obj/llhttp/api.o obj/llhttp/http.o obj/llhttp/llhttp.o
endif

BINS := $(FUZZ_TARGETS:%=fuzz_%)

all: $(BINS) conf.dict

# Warnings of the code under test are shown, not fatal: clang warns
# about things gcc (the build's compiler) does not.
obj/src/%.o: $(S)/%.c
	@mkdir -p $(@D)
	@echo "  CC(fuzz) src/$*.c"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN_CFLAGS) \
	    -Wno-error -MMD -MP -c $< -o $@

obj/llhttp/%.o: $(LLHTTP_SRCDIR)/%.c
	@mkdir -p $(@D)
	@echo "  CC(fuzz) llhttp/$*.c"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c $< -o $@

obj/fuzz/%.o: $(F)/%.c $(F)/fuzz.h
	@mkdir -p $(@D)
	@echo "  CC(fuzz) test-suite/fuzz/$*.c"
	@$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(WARN_CFLAGS) \
	    -I$(F) -MMD -MP -c $< -o $@

GEN_CC = @mkdir -p $(@D); echo "  CC(fuzz) $< (generated)"; \
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -w -c $< -o $@
obj/gen/errpage_tbl.o: $(top_builddir)/src/client/errpage_tbl.c
	$(GEN_CC)
obj/gen/mgr_page_dashboard_tbl.o: \
	    $(top_builddir)/src/mgr/mgr_page_dashboard_tbl.c
	$(GEN_CC)

libcuttle-proxy.a: $(PROXY_OBJS)
	@rm -f $@
	@ar cr $@ $(PROXY_OBJS)

fuzz_proxy: obj/fuzz/fuzz_proxy.o obj/fuzz/fuzz_common.o libcuttle-proxy.a
	@echo "  LD(fuzz) $@"
	@$(FUZZ_CC) -fsanitize=fuzzer $(SAN) -o $@ $^ $(LLHTTP_LIBS) \
	    $(PROXY_LIBS) -lm

# Targets whose module is not in libcuttle-fuzz.a: its objects (and
# libraries) on top of the rule for all (fuzz_%, below).
# ssl_bump's ClientHello parser, with the name check it uses (OpenSSL).
fuzz_hello: obj/src/tls/tls_hello.o obj/src/tls/tls_mint.o \
	obj/src/tls/tls_ctx.o obj/src/tls/tls_verify.o
fuzz_hello: EXTRA_LIBS = $(PROXY_LIBS)
# Helper answers: helper_reply.c, which needs only base/log.c below it.
fuzz_helper: obj/src/helper/helper_reply.o
# Basic credentials and what utf8 on does with them (OpenSSL's base64
# decoder and digests).
fuzz_auth: obj/src/auth/auth_decode.o
fuzz_auth: EXTRA_LIBS = $(PROXY_LIBS)
# Helper lines: acl_format.c, which needs only base/log.c (check_fail())
# below it; the request's fields are http_msg.c's.
fuzz_format: obj/src/acl/acl_format.o

libcuttle-fuzz.a: $(LIB_OBJS)
	@rm -f $@
	@ar cr $@ $(LIB_OBJS)

fuzz_%: obj/fuzz/fuzz_%.o obj/fuzz/fuzz_common.o libcuttle-fuzz.a
	@echo "  LD(fuzz) $@"
	@$(FUZZ_CC) -fsanitize=fuzzer $(SAN) -o $@ $^ $(LLHTTP_LIBS) \
	    $(EXTRA_LIBS) -lm

# The directive names, for fuzz_conf's dictionary.
conf.dict: $(S)/conf/directives.def $(S)/conf/unsupported.def
	@{ sed -n 's/^DIRECTIVE(\([a-z_0-9]*\),.*/"\1"/p' \
	    $(S)/conf/directives.def; \
	  sed -n 's/^UNSUPPORTED("\([a-z_0-9]*\)".*/"\1"/p' \
	    $(S)/conf/unsupported.def; \
	  cat $(F)/conf.dict.in; } > $@

run: all
	@sh $(F)/run.sh $(F) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

.PHONY: all run
.PRECIOUS: obj/fuzz/%.o
-include $(LIB_OBJS:.o=.d) $(PROXY_OBJS:.o=.d) $(wildcard obj/fuzz/*.d)
