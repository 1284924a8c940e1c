/*
 * mkcpio: write a Linux initramfs (the "newc" cpio format of the kernel's
 * Documentation/driver-api/early-userspace/buffer-format.rst) from a
 * directory tree, deterministically: entries sorted by name, every file
 * owned by 0:0 with mtime SOURCE_DATE_EPOCH (or 0), inode numbers in
 * order. Regular files, directories and symlinks; plus a /dev/console
 * character device (5, 1), so the kernel can open its console before
 * userspace mounts devtmpfs. No cpio package is needed to build it.
 *   mkcpio DIR > initrd.cpio
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long ino = 1, mtime;

static void pad4(unsigned long n)
{
	while (n++ % 4)
		putchar(0);
}

static void entry(const char *name, unsigned mode, const char *data, unsigned long size,
		  unsigned rmaj, unsigned rmin)
{
	unsigned long nlen = strlen(name) + 1;

	printf("070701%08lX%08X%08X%08X%08X%08lX%08lX%08X%08X%08X%08X%08lX%08X",
	       ino++, mode, 0, 0, (mode & S_IFMT) == S_IFDIR ? 2 : 1, mtime, size,
	       0, 0, rmaj, rmin, nlen, 0);
	fwrite(name, 1, nlen, stdout);
	pad4(110 + nlen);
	if (size)
		fwrite(data, 1, size, stdout);
	pad4(size);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void walk(const char *root, const char *rel)
{
	char path[8192], sub[4096];
	struct dirent **list;
	int n;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	n = scandir(path, &list, NULL, by_name);
	if (n < 0) {
		perror(path);
		exit(1);
	}
	for (int i = 0; i < n; i++) {
		const char *d = list[i]->d_name;
		struct stat st;

		if (!strcmp(d, ".") || !strcmp(d, "..")) {
			free(list[i]);
			continue;
		}
		if ((size_t)snprintf(sub, sizeof(sub), "%s%s%s", rel, *rel ? "/" : "", d) >= sizeof(sub)) {
			fprintf(stderr, "mkcpio: path too long: %s\n", d);
			exit(1);
		}
		snprintf(path, sizeof(path), "%s/%s", root, sub);
		if (lstat(path, &st)) {
			perror(path);
			exit(1);
		}
		if (S_ISDIR(st.st_mode)) {
			entry(sub, S_IFDIR | 0755, NULL, 0, 0, 0);
			walk(root, sub);
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t len = readlink(path, target, sizeof(target));

			if (len < 0) {
				perror(path);
				exit(1);
			}
			entry(sub, S_IFLNK | 0777, target, (unsigned long)len, 0, 0);
		} else if (S_ISREG(st.st_mode)) {
			FILE *f = fopen(path, "rb");
			char *buf = malloc(st.st_size ? (size_t)st.st_size : 1);

			if (!f || !buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
				perror(path);
				exit(1);
			}
			fclose(f);
			entry(sub, S_IFREG | ((st.st_mode & 0111) ? 0755 : 0644), buf,
			      (unsigned long)st.st_size, 0, 0);
			free(buf);
		}
		free(list[i]);
	}
	free(list);
}

int main(int argc, char **argv)
{
	const char *sde = getenv("SOURCE_DATE_EPOCH");

	if (argc != 2) {
		fprintf(stderr, "usage: mkcpio DIR > initrd.cpio\n");
		return 2;
	}
	mtime = sde ? strtoul(sde, NULL, 10) : 0;
	walk(argv[1], "");
	entry("dev/console", S_IFCHR | 0600, NULL, 0, 5, 1);
	entry("TRAILER!!!", 0, NULL, 0, 0, 0);
	return fflush(stdout) ? 1 : 0;
}
