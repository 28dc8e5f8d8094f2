//go:build !cgo

package storage

// Without cgo there is no SQLite in the binary (the driver is a stub).
var sqliteMemstatusOff = -1

func sqliteMemoryUsed() int64 { return -1 }
