# bench: benchmarks are executable bench/*.sh scripts run by bench/run
# (make bench). A benchmark that needs something built adds it to
# BENCH_DEPS. "+=", not ":=": this fragment is included last, after others
# may have added theirs.

BENCH_DEPS += $(BIN)/wakefarm-run-qemu $(GUEST_IMAGES)
