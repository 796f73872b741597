/* Finding ACPI tables in guest memory. */
#include "acpi.h"

u8
acpi_checksum(const void *p, size_t len)
{
	const u8 *b = p;
	u8 sum = 0;

	while (len--)
		sum += *b++;
	return sum;
}

struct acpi_rsdp *
acpi_find_rsdp(void)
{
	/* SeaBIOS puts the RSDP in the BIOS read-only area, 16-byte aligned. */
	for (u64 a = 0xE0000; a < 0x100000; a += 16) {
		struct acpi_rsdp *r = (struct acpi_rsdp *)a;

		if (!memcmp(r->signature, "RSD PTR ", 8) &&
		    !acpi_checksum(r, 20))
			return r;
	}
	return NULL;
}

struct acpi_header *
acpi_root(struct acpi_rsdp *rsdp, bool *is_xsdt)
{
	*is_xsdt = rsdp->revision >= 2 && rsdp->xsdt;
	return (struct acpi_header *)(*is_xsdt ? rsdp->xsdt : (u64)rsdp->rsdt);
}

struct acpi_header *
acpi_find_table(struct acpi_rsdp *rsdp, const char sig[4])
{
	bool x;
	struct acpi_header *root = acpi_root(rsdp, &x);
	size_t n = (root->length - sizeof(*root)) / (x ? 8 : 4);
	const u8 *ent = (const u8 *)(root + 1);

	for (size_t i = 0; i < n; i++) {
		u64 addr = 0;

		memcpy(&addr, ent + i * (x ? 8 : 4), x ? 8 : 4);
		if (addr &&
		    !memcmp(((struct acpi_header *)addr)->signature, sig, 4))
			return (struct acpi_header *)addr;
	}
	return NULL;
}

u64
hash_bytes(const void *p, size_t len)
{
	const u8 *b = p;
	u64 h = 0xcbf29ce484222325ULL;

	while (len--) {
		h ^= *b++;
		h *= 0x100000001b3ULL;
	}
	return h;
}
