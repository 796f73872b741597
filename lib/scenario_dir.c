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

int
scenario_load_dir(
    const char *dir, struct scenario ***out, size_t *n, char **cause)
{
	char *names[SCENARIO_DIR_MAX], path[4096];
	struct scenario **list = NULL;
	size_t count = 0, i, len;
	struct dirent *de;
	DIR *d;
	int rc = -1;

	*out = NULL;
	*n = 0;
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
		if (count == SCENARIO_DIR_MAX) {
			wf_set_cause(cause, "%s: more than %d scenarios", dir,
			    SCENARIO_DIR_MAX);
			goto out;
		}
		if ((names[count] = strdup(de->d_name)) == NULL) {
			wf_set_cause(cause, "out of memory");
			goto out;
		}
		count++;
	}
	qsort(names, count, sizeof(names[0]), cmp_name);
	if ((list = calloc(count + 1, sizeof(*list))) == NULL) {
		wf_set_cause(cause, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if ((list[i] = scenario_load_file(path, cause)) == NULL)
			goto out;
		len = strlen(names[i]) - 5;
		if (strlen(list[i]->name) != len ||
		    strncmp(list[i]->name, names[i], len) != 0) {
			wf_set_cause(cause,
			    "%s: the scenario is named '%s';"
			    " its file must be %s.json",
			    path, list[i]->name, list[i]->name);
			goto out;
		}
	}
	*out = list;
	*n = count;
	list = NULL;
	rc = 0;
out:
	scenario_list_free(list, count);
	for (i = 0; i < count; i++)
		free(names[i]);
	closedir(d);
	return rc;
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
