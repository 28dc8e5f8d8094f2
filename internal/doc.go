// Package internal holds the shared machinery every component is built
// on (config, storage, streams, HTTP, RPC). The dependency direction is
// strict: nothing under internal/ imports a component; the assembly that
// joins components lives in the top-level server package.
package internal
