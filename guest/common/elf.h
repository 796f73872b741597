/* Loading our static-PIE ELF64 kernel at a chosen physical base. */
#ifndef WF_ELF_H
#define WF_ELF_H

#include "types.h"

/* Copies every PT_LOAD segment of `image` to base + p_vaddr, zeroing the
 * rest of p_memsz.  Returns the entry address, or 0 with *why set when the
 * image is not an x86-64 ELF that fits in `limit` bytes. */
u64
elf_load(const void *image, size_t size, u64 base, u64 limit, const char **why);

#endif
