# bench/lib.sh: helpers the benchmark scripts source.
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }
