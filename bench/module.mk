# bench: benchmarks are executable bench/*.sh scripts run by bench/run
# (make bench). A benchmark that needs something built adds it to
# BENCH_DEPS. "+=", not ":=": this fragment is included last, after others
# may have added theirs.

BENCH_DEPS += $(BIN)/wakefarm-run-qemu $(GUEST_IMAGES)

# The controller benchmark's client (bench/controller.sh): HTTP load, the
# bare-SQLite baseline and the seeding tool, on the controller's own db.c.
CTLBENCH_OBJS := $(HOBJ)/bench/ctlbench.o $(HOBJ)/bench/ctlbench_db.o \
	$(HOBJ)/controller/db.o
$(BIN)/bench/ctlbench: $(CTLBENCH_OBJS) $(LIBWF)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) -o $@ $(CTLBENCH_OBJS) $(LIBWF) $(LDLIBS_HOST)

BENCH_DEPS += $(BIN)/wakefarm-controller $(BIN)/bench/ctlbench
