/* Minimal ELF64 loader: validate, copy PT_LOAD segments, return the entry. */
#include "elf.h"

struct elf64_ehdr {
	u8 ident[16];
	u16 type, machine;
	u32 version;
	u64 entry, phoff, shoff;
	u32 flags;
	u16 ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
} PACKED;
_Static_assert(sizeof(struct elf64_ehdr) == 64, "ELF header");

struct elf64_phdr {
	u32 type, flags;
	u64 offset, vaddr, paddr, filesz, memsz, align;
} PACKED;
_Static_assert(sizeof(struct elf64_phdr) == 56, "ELF program header");

#define PT_LOAD 1
#define EM_X86_64 62

u64
elf_load(const void *image, size_t size, u64 base, u64 limit, const char **why)
{
	const struct elf64_ehdr *eh = image;
	const u8 *img = image;

	if (size < sizeof(*eh) || memcmp(eh->ident, "\177ELF", 4) ||
	    eh->ident[4] != 2) {
		*why = "not an ELF64 image";
		return 0;
	}
	if (eh->machine != EM_X86_64 ||
	    eh->phentsize != sizeof(struct elf64_phdr) ||
	    eh->phoff + (u64)eh->phnum * sizeof(struct elf64_phdr) > size) {
		*why = "bad ELF program headers";
		return 0;
	}
	for (u16 i = 0; i < eh->phnum; i++) {
		const struct elf64_phdr *ph = (const void *)(img + eh->phoff +
		    i * sizeof(*ph));

		if (ph->type != PT_LOAD)
			continue;
		if (ph->offset + ph->filesz > size || ph->filesz > ph->memsz ||
		    ph->vaddr + ph->memsz > limit) {
			*why = "ELF segment out of bounds";
			return 0;
		}
		memcpy(
		    (void *)(base + ph->vaddr), img + ph->offset, ph->filesz);
		memset((void *)(base + ph->vaddr + ph->filesz), 0,
		    ph->memsz - ph->filesz);
	}
	return base + eh->entry;
}
