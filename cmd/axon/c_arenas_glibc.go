//go:build linux && cgo

package main

/*
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
// Runs before the Go runtime starts any thread: arenas, once made, stay.
__attribute__((constructor)) static void axon_limit_c_arenas(void) {
	if (getenv("MALLOC_ARENA_MAX") != NULL) return;
	long n = sysconf(_SC_NPROCESSORS_ONLN) / 2;
	mallopt(M_ARENA_MAX, n < 2 ? 2 : (int)n);
}
static int axon_c_arenas(void) {
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (f == NULL) return -1;
	malloc_info(0, f);
	fclose(f);
	int n = 0;
	for (char *p = buf; (p = strstr(p, "<heap nr=")) != NULL; p++) n++;
	free(buf);
	return n;
}
#else
static int axon_c_arenas(void) { return -1; }
#endif
static void axon_malloc_and_hold(int ms) {
	void *p = malloc(4096);
	usleep(ms * 1000);
	free(p);
}
*/
import "C"

// glibc's malloc arenas are capped at one per two cores, at least two
// (axon_limit_c_arenas above; glibc's default is eight per core). Each
// thread that calls into SQLite gets an arena of its own until the cap,
// and memory SQLite frees stays in that arena: the arenas held ~5 MB more
// at the peak than two do (docs/performance.md, "Memory, round eleven").
// MALLOC_ARENA_MAX, when set, is left to glibc.

// cArenas counts glibc's arenas (malloc_info), -1 where unknown.
func cArenas() int { return int(C.axon_c_arenas()) }

// mallocAndHold allocates on the calling thread and keeps the
// allocation ms milliseconds inside C, so concurrent callers run on
// threads of their own (tests).
func mallocAndHold(ms int) { C.axon_malloc_and_hold(C.int(ms)) }
