//go:build !cgo

package storage

// Without cgo there is no SQLite in the binary (the driver is a stub).
var sqliteMemstatusOff = -1

func sqliteMemoryUsed() int64 { return -1 }

// No SQLite, no VFS to select (sqlite_walvfs.go).
func sqliteVFSParam() string { return "" }

func walVFSCounts() (writes, flushes uint64) { return 0, 0 }
