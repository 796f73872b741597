/*
 * scenario_dir.c: loading every scenario of a directory (see scenario.h).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "util.h"

#define SCENARIO_DIR_MAX 1024

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One file of the directory; NULL with a cause. */
static struct scenario *
load_one(const char *dir, const char *name, char **cause)
{
	char path[4096];
	struct scenario *sc;
	size_t len = strlen(name) - 5;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((sc = scenario_load_file(path, cause)) == NULL)
		return NULL;
	if (strlen(sc->name) != len || strncmp(sc->name, name, len) != 0) {
		wf_set_cause(cause,
		    "%s: the scenario is named '%s';"
		    " its file must be %s.json",
		    path, sc->name, sc->name);
		scenario_free(sc);
		return NULL;
	}
	return sc;
}

/* The sorted *.json names of dir into names; their count, -1 on error. */
static int
list_names(const char *dir, char **names, char **cause)
{
	struct dirent *de;
	size_t len;
	DIR *d;
	int count = 0;

	if ((d = opendir(dir)) == NULL) {
		wf_set_cause(
		    cause, "scenario directory %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 6 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 5, ".json") != 0)
			continue;
		if (count == SCENARIO_DIR_MAX ||
		    (names[count] = strdup(de->d_name)) == NULL) {
			wf_set_cause(cause, "%s: more than %d scenarios", dir,
			    SCENARIO_DIR_MAX);
			while (count > 0)
				free(names[--count]);
			closedir(d);
			return -1;
		}
		count++;
	}
	closedir(d);
	qsort(names, (size_t)count, sizeof(names[0]), cmp_name);
	return count;
}

int
scenario_load_dir_errors(const char *dir, struct scenario ***out, size_t *n,
    json_t *errors, char **cause)
{
	char *names[SCENARIO_DIR_MAX], *why = NULL;
	struct scenario **list = NULL;
	size_t good = 0, i;
	int count, rc = -1;

	*out = NULL;
	*n = 0;
	if ((count = list_names(dir, names, cause)) == -1)
		return -1;
	if ((list = calloc((size_t)count + 1, sizeof(*list))) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	for (i = 0; i < (size_t)count; i++) {
		if ((list[good] = load_one(dir, names[i], &why)) != NULL) {
			good++;
			continue;
		}
		if (errors == NULL) {
			wf_set_cause(cause, "%s", wf_cause_str(why));
			goto out;
		}
		json_array_append_new(errors,
		    json_pack("{s:s, s:s}", "file", names[i], "message",
		        wf_cause_str(why)));
	}
	*out = list;
	*n = good;
	list = NULL;
	rc = 0;
out:
	scenario_list_free(list, good);
	for (i = 0; i < (size_t)count; i++)
		free(names[i]);
	free(why);
	return rc;
}

int
scenario_load_dir(
    const char *dir, struct scenario ***out, size_t *n, char **cause)
{
	return scenario_load_dir_errors(dir, out, n, NULL, cause);
}

void
scenario_list_free(struct scenario **list, size_t n)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < n; i++)
		scenario_free(list[i]);
	free(list);
}

struct scenario *
scenario_find(struct scenario **list, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(list[i]->name, name) == 0)
			return list[i];
	}
	return NULL;
}
