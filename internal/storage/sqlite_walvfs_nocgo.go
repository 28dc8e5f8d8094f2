//go:build !cgo

package storage

// No SQLite, no VFS to select (sqlite_walvfs.go).
func sqliteVFSParam() string { return "" }

func walVFSCounts() (writes, flushes uint64) { return 0, 0 }
