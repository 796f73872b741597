/*
 * kernel_compare.h: `wakefarm compare --kernels A,B RUN [RUN_B]`, the cases
 * kernel B ran against the same cases on kernel A (kernel_compare.c).
 */
#ifndef WF_KERNEL_COMPARE_H
#define WF_KERNEL_COMPARE_H

/*
 * Pairs the cases of run_a that booted A with those of run_b that booted B
 * (the same run for a kernel axis) and prints them, or their JSON. A and B
 * are package names, bzImage paths, or test-kernel:POLICY. A CLI_* status.
 */
int
kernel_compare(const char *kernels, long long run_a, long long run_b, int json);

#endif
