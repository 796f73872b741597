/*
 * tail.h: reading a guest's serial file while it grows, across rotations.
 *
 * Through libvirt, virtlogd writes a serial port's file and rotates it at
 * its max_size (2 MiB by default): PATH.k becomes PATH.k+1 (the last one
 * is deleted, max_backups = 3), PATH becomes PATH.0 and a new PATH starts.
 * A reader at an offset of PATH would then stall, reading nothing, and
 * everything the guest wrote after the rotation would be lost. A tail
 * keeps its file open, finishes it after a rotation and goes on with its
 * successor, found by inode. It falls behind only when the guest writes
 * max_backups whole files between two reads (the gap is counted).
 *
 * Bare QEMU's files never rotate: a tail reads them the same way.
 */
#ifndef WF_TAIL_H
#define WF_TAIL_H

#include <sys/types.h>

#define TAIL_BACKUPS 10 /* PATH.0 .. PATH.9 are looked at */

struct tail {
	char path[300];
	int fd; /* -1: not open yet */
	ino_t ino;
	long long off; /* bytes read, over every file */
	long long in_file; /* of those, from the open file */
	int gaps; /* files rotated away unread */
};

void tail_init(struct tail *t, const char *path);
/*
 * Up to size bytes from where the tail is, all from one file; 0 when there
 * is nothing new (yet), -1 on a read error. Never blocks.
 */
ssize_t tail_read(struct tail *t, char *buf, size_t size);
/* Gives back the last n bytes read (all from the last tail_read). */
void tail_unread(struct tail *t, size_t n);
void tail_close(struct tail *t);

#endif
