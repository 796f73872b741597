/*
 * fw_cfg access.  The DMA interface (QEMU 2.9+) is used when the device
 * offers it: reading a 100 KiB kernel one I/O port byte at a time would cost
 * a noticeable slice of a TCG boot.
 */
#include "fwcfg.h"
#include "../common/cpu.h"

#define FW_CFG_PORT_SEL 0x510 /* 16-bit selector */
#define FW_CFG_PORT_DATA 0x511 /* 8-bit data */
#define FW_CFG_PORT_DMA_HI 0x514 /* DMA address, big-endian, high half */
#define FW_CFG_PORT_DMA_LO 0x518 /* low half: writing it starts the transfer */

#define FW_CFG_VERSION_DMA 0x2
#define DMA_CTL_ERROR 0x01
#define DMA_CTL_READ 0x02
#define DMA_CTL_SELECT 0x08

struct fwcfg_dma {
	u32 control;
	u32 length;
	u64 address;
} PACKED;

struct fwcfg_file {
	u32 size;
	u16 select;
	u16 reserved;
	char name[56];
} PACKED;

static bool have_dma;

static u32
be32(u32 v)
{
	return __builtin_bswap32(v);
}
static u64
be64(u64 v)
{
	return __builtin_bswap64(v);
}

bool
fwcfg_present(void)
{
	char sig[4];
	u32 id;

	outw(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
	for (int i = 0; i < 4; i++)
		sig[i] = inb(FW_CFG_PORT_DATA);
	if (memcmp(sig, "QEMU", 4))
		return false;
	outw(FW_CFG_PORT_SEL, FW_CFG_ID);
	id = 0;
	for (int i = 0; i < 4; i++)
		id |= (u32)inb(FW_CFG_PORT_DATA) << (8 * i);
	have_dma = id & FW_CFG_VERSION_DMA;
	return true;
}

/* One DMA read; without DMA_CTL_SELECT it continues the selected item. */
static void
dma_read(u32 control, void *buf, u32 len)
{
	static volatile struct fwcfg_dma d __attribute__((aligned(16)));
	u64 pa = (u64)&d;

	d.control = be32(control);
	d.length = be32(len);
	d.address = be64((u64)buf);
	barrier();
	outl(FW_CFG_PORT_DMA_HI,
	    be32(pa >> 32)); /* DMA address register, high half */
	outl(FW_CFG_PORT_DMA_LO,
	    be32((u32)pa)); /* low half: starts the transfer */
	while (be32(d.control) & ~DMA_CTL_ERROR)
		cpu_relax();
}

void
fwcfg_read(u16 key, void *buf, u32 len)
{
	if (have_dma) {
		dma_read(
		    ((u32)key << 16) | DMA_CTL_SELECT | DMA_CTL_READ, buf, len);
		return;
	}
	outw(FW_CFG_PORT_SEL, key); /* selector: item `key`, offset 0 */
	for (u32 i = 0; i < len; i++)
		((u8 *)buf)[i] = inb(FW_CFG_PORT_DATA);
}

void
fwcfg_read_next(void *buf, u32 len)
{
	if (have_dma) {
		dma_read(DMA_CTL_READ, buf, len);
		return;
	}
	for (u32 i = 0; i < len; i++)
		((u8 *)buf)[i] = inb(
		    FW_CFG_PORT_DATA); /* data port: next byte */
}

long
fwcfg_file(const char *name, u16 *key)
{
	u32 count;

	/* The directory is read entry by entry through the data port: the
	 * selector stays on FW_CFG_FILE_DIR and every read advances. */
	outw(FW_CFG_PORT_SEL, FW_CFG_FILE_DIR);
	count = 0;
	for (int i = 0; i < 4; i++)
		count = (count << 8) | inb(FW_CFG_PORT_DATA);
	for (u32 i = 0; i < count; i++) {
		struct fwcfg_file f;

		for (u32 j = 0; j < sizeof(f); j++)
			((u8 *)&f)[j] = inb(FW_CFG_PORT_DATA);
		if (!strncmp(f.name, name, sizeof(f.name))) {
			*key = __builtin_bswap16(f.select);
			return be32(f.size);
		}
	}
	return -1;
}
