//go:build linux && cgo

package main

/*
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
static void axon_trim_c_heap(void) { malloc_trim(0); }
#else
static void axon_trim_c_heap(void) {}
#endif
*/
import "C"

// trimCHeap hands the C heap's free pages back to the OS (glibc's
// malloc_trim: free pages inside its arenas too, not only at their top).
// Memory SQLite frees stays in the arenas otherwise, in pieces the rest
// of the process never asks for again.
func trimCHeap() { C.axon_trim_c_heap() }
