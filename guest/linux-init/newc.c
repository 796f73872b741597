/*
 * newc.c: writing an initramfs (cpio "newc" format, the one the kernel
 * unpacks) for the reporter: at build time on the host (init --pack) and in
 * the guest before each kexec, where it packs its own root file system again
 * so that every generation carries the kernel it will kexec into.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reporter.h"

static int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int
pad4(int fd, size_t len)
{
	static const char zero[4];

	return len % 4 ? write_all(fd, zero, 4 - len % 4) : 0;
}

/* One header + name (padded to 4 with the 110-byte header). */
static int
newc_header(int fd, const char *name, unsigned mode, unsigned rmaj,
    unsigned rmin, size_t size)
{
	static unsigned ino = 1000;
	char hdr[128];

	snprintf(hdr, sizeof(hdr),
	    "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", ino++,
	    mode, 0u, 0u, 1u, 0u, (unsigned)size, 0u, 0u, rmaj, rmin,
	    (unsigned)strlen(name) + 1, 0u);
	if (write_all(fd, hdr, 110) < 0 ||
	    write_all(fd, name, strlen(name) + 1) < 0)
		return -1;
	return pad4(fd, 110 + strlen(name) + 1);
}

static int
newc_dir(int fd, const char *name)
{
	return newc_header(fd, name, S_IFDIR | 0755, 0, 0, 0);
}

static int
newc_node(int fd, const char *name, unsigned mode, unsigned rmaj, unsigned rmin)
{
	return newc_header(fd, name, mode, rmaj, rmin, 0);
}

/* Copies the file at `path` into the archive as `name`. */
static int
newc_file(int fd, const char *name, const char *path, unsigned mode)
{
	char buf[65536];
	struct stat st;
	ssize_t n;
	int in = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (in < 0 || fstat(in, &st) < 0)
		goto out;
	if (newc_header(fd, name, S_IFREG | mode, 0, 0, st.st_size) < 0)
		goto out;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, n) < 0)
			goto out;
	if (n < 0)
		goto out;
	rc = pad4(fd, st.st_size);
out:
	if (in >= 0)
		close(in);
	return rc;
}

static int
newc_trailer(int fd)
{
	return newc_header(fd, "TRAILER!!!", 0, 0, 0, 0);
}

/* Raw copy (a user initrd goes first, unchanged: the kernel unpacks
 * concatenated archives in order, so our /init wins). */
static int
copy_file(int fd, const char *path)
{
	char buf[65536];
	ssize_t n;
	int in = open(path, O_RDONLY | O_CLOEXEC), rc = -1;

	if (in < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_all(fd, buf, n) < 0)
			goto out;
	rc = n < 0 ? -1 : 0;
out:
	close(in);
	return rc;
}

int
pack_initramfs(const char *out, const char *init, const char *kernel,
    const char *user_initrd)
{
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644),
	    rc = -1;

	if (fd < 0)
		return -1;
	if (user_initrd && copy_file(fd, user_initrd) < 0)
		goto out;
	if (newc_dir(fd, "dev") < 0 ||
	    newc_node(fd, "dev/console", S_IFCHR | 0600, 5, 1) < 0 ||
	    newc_dir(fd, "wakefarm") < 0 ||
	    newc_file(fd, "init", init, 0755) < 0 ||
	    newc_file(fd, "wakefarm/vmlinuz", kernel, 0644) < 0 ||
	    (user_initrd &&
	        newc_file(fd, "wakefarm/initrd", user_initrd, 0644) < 0) ||
	    newc_trailer(fd) < 0)
		goto out;
	rc = 0;
out:
	if (close(fd) < 0)
		rc = -1;
	return rc;
}
