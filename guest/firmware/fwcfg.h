/* QEMU fw_cfg: how the host hands the firmware its configuration and images. */
#ifndef FW_FWCFG_H
#define FW_FWCFG_H

#include "../common/types.h"

#define FW_CFG_SIGNATURE 0x00
#define FW_CFG_ID 0x01
#define FW_CFG_NB_CPUS 0x05
#define FW_CFG_FILE_DIR 0x19

bool fwcfg_present(void);
void fwcfg_read(u16 key, void *buf, u32 len);
/* Continues reading the item the last fwcfg_read selected. */
void fwcfg_read_next(void *buf, u32 len);
/* Looks a file up by name ("opt/wakefarm/kernel"); returns its size, -1 if absent. */
long fwcfg_file(const char *name, u16 *key);

#endif
