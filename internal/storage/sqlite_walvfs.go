//go:build cgo

package storage

// A commit writes each WAL frame with two system calls, its 24-byte header
// and then its page: a commit of 60 pages made 120 pwrites, 13–19 per
// event sent (docs/performance.md, round fifteen), each paying the
// kernel's per-call cost (entry, inode lock, timestamps, dirty-page
// accounting). The "axon-wal" VFS wraps SQLite's default one and gathers
// the contiguous writes of a WAL file into one buffer, written with one
// call when the commit frame's page arrives. Everything else passes
// through unchanged. What keeps it exact:
//
//   - Bytes reach the file in the order SQLite wrote them: a write that
//     does not continue the buffer, and every other method of the WAL
//     file (read, sync, size, truncate, lock, file control, close),
//     writes the buffer out first. SQLite rereading its own frames, or
//     overwriting one (a spilled page written again), sees the file as
//     without the VFS.
//   - A commit is written before it can be seen: other connections find
//     new frames only through the wal-index header that the commit
//     publishes after its frames, and the buffer is written out when the
//     commit frame's page arrives, so its error fails the commit as a
//     direct write would. The database file's shared-memory barrier,
//     which SQLite calls between the header's two copies, also writes
//     out anything still buffered, and a failure there fails the next
//     call on the WAL file.
//   - Nothing is kept in memory past a commit, so a crash loses only
//     what was not committed.
//
// A checkpoint's copies into the database file (40 % of them continue the
// previous page: the tables' new pages) are gathered the same way while
// the connection's WAL is open; the checkpoint's sync of the database
// file, which comes before the WAL may be reused, writes them out, as do
// the file's other methods, its shared-memory calls and closing the WAL.
//
// The shim's writes and flushes are counted (walVFSCounts) so a test can
// see the gathering happen.

/*
#include <stdlib.h>
#include <string.h>

// From sqlite3.h (public domain): the version-3 VFS and file objects.
typedef long long ax_i64;
typedef struct ax_file ax_file;
typedef struct ax_io_methods ax_io_methods;
struct ax_file { const ax_io_methods *pMethods; };
struct ax_io_methods {
	int iVersion;
	int (*xClose)(ax_file*);
	int (*xRead)(ax_file*, void*, int, ax_i64);
	int (*xWrite)(ax_file*, const void*, int, ax_i64);
	int (*xTruncate)(ax_file*, ax_i64);
	int (*xSync)(ax_file*, int);
	int (*xFileSize)(ax_file*, ax_i64*);
	int (*xLock)(ax_file*, int);
	int (*xUnlock)(ax_file*, int);
	int (*xCheckReservedLock)(ax_file*, int*);
	int (*xFileControl)(ax_file*, int, void*);
	int (*xSectorSize)(ax_file*);
	int (*xDeviceCharacteristics)(ax_file*);
	int (*xShmMap)(ax_file*, int, int, int, void volatile**);
	int (*xShmLock)(ax_file*, int, int, int);
	void (*xShmBarrier)(ax_file*);
	int (*xShmUnmap)(ax_file*, int);
	int (*xFetch)(ax_file*, ax_i64, int, void**);
	int (*xUnfetch)(ax_file*, ax_i64, void*);
};
typedef struct ax_vfs ax_vfs;
typedef void (*ax_syscall_ptr)(void);
struct ax_vfs {
	int iVersion;
	int szOsFile;
	int mxPathname;
	ax_vfs *pNext;
	const char *zName;
	void *pAppData;
	int (*xOpen)(ax_vfs*, const char*, ax_file*, int, int*);
	int (*xDelete)(ax_vfs*, const char*, int);
	int (*xAccess)(ax_vfs*, const char*, int, int*);
	int (*xFullPathname)(ax_vfs*, const char*, int, char*);
	void *(*xDlOpen)(ax_vfs*, const char*);
	void (*xDlError)(ax_vfs*, int, char*);
	void (*(*xDlSym)(ax_vfs*, void*, const char*))(void);
	void (*xDlClose)(ax_vfs*, void*);
	int (*xRandomness)(ax_vfs*, int, char*);
	int (*xSleep)(ax_vfs*, int);
	int (*xCurrentTime)(ax_vfs*, double*);
	int (*xGetLastError)(ax_vfs*, int, char*);
	int (*xCurrentTimeInt64)(ax_vfs*, ax_i64*);
	int (*xSetSystemCall)(ax_vfs*, const char*, ax_syscall_ptr);
	ax_syscall_ptr (*xGetSystemCall)(ax_vfs*, const char*);
	const char *(*xNextSystemCall)(ax_vfs*, const char*);
};

#define AX_OK 0
#define AX_IOERR_NOMEM (10 | (12<<8))
#define AX_OPEN_WAL 0x00080000
#define AX_WAL_FRAME_HDR 24
// The most bytes gathered before they are written (a larger commit is
// written in pieces of this size): below glibc's mmap threshold, so the
// buffer comes from and returns to the heap without system calls.
#define AX_BUF_MAX (64 * 1024)

// SQLite's own, compiled in by github.com/mattn/go-sqlite3; weak for the
// same reason as in sqlite_memstatus.go.
extern ax_vfs *sqlite3_vfs_find(const char*) __attribute__((weak));
extern int sqlite3_vfs_register(ax_vfs*, int) __attribute__((weak));
extern ax_file *sqlite3_database_file_object(const char*) __attribute__((weak));

typedef struct axFile axFile;
struct axFile {
	ax_file base;
	ax_file *real;   // the default VFS's file, allocated right after this
	axFile *wal;     // a database file: its connection's open WAL file
	axFile *db;      // a WAL file: the database file it belongs to
	int isWal;
	int err;         // a failed write-out of the barrier, for the next call
	int commitNext;  // the last write was a commit frame's header
	char *buf;       // pending bytes for [off, off+n)
	int n;
	ax_i64 off;
};

static ax_vfs *axReal;
static ax_vfs axVfs;
static ax_io_methods axMethods[4]; // by the real file's iVersion (1–3)
static unsigned long long axWrites, axFlushes;

#define REAL(f) (((axFile*)(f))->real)
#define RM(f) (REAL(f)->pMethods)

static int axFlush(axFile *p) {
	if (p->n == 0) return AX_OK;
	int rc = p->real->pMethods->xWrite(p->real, p->buf, p->n, p->off);
	__atomic_add_fetch(&axFlushes, 1, __ATOMIC_RELAXED);
	free(p->buf);
	p->buf = 0;
	p->n = 0;
	return rc;
}

// axTakeErr reports a barrier's failed write-out once.
static int axTakeErr(axFile *p) {
	int rc = p->err;
	p->err = 0;
	return rc;
}

// axSettle writes a file's buffer out before any other use of it.
static int axSettle(ax_file *f) {
	axFile *p = (axFile*)f;
	int rc = axTakeErr(p);
	return rc != AX_OK ? rc : axFlush(p);
}

// axSettleLater writes a buffer out where no error can be returned: the
// next call on the file reports it.
static void axSettleLater(axFile *p) {
	if (p && p->n > 0) {
		int rc = axFlush(p);
		if (rc != AX_OK && !p->err) p->err = rc;
	}
}

// AX_SETTLED forwards a call to the real file once the buffer is out.
#define AX_SETTLED(call) do { int rc = axSettle(f); return rc != AX_OK ? rc : RM(f)->call; } while (0)

static int axClose(ax_file *f) {
	axFile *p = (axFile*)f;
	int rc = axSettle(f);
	if (p->isWal && p->db && p->db->wal == p) {
		// The WAL may be deleted next: the database's checkpointed
		// pages go first.
		axSettleLater(p->db);
		p->db->wal = 0;
	}
	if (!p->isWal && p->wal) p->wal->db = 0;
	int rc2 = RM(f)->xClose(REAL(f));
	return rc != AX_OK ? rc : rc2;
}

static int axRead(ax_file *f, void *z, int n, ax_i64 off) { AX_SETTLED(xRead(REAL(f), z, n, off)); }

static int axWrite(ax_file *f, const void *z, int n, ax_i64 off) {
	axFile *p = (axFile*)f;
	// A database file gathers only while its WAL is open: then its writes
	// are a checkpoint's copies, which other connections read only after
	// the checkpoint's sync. In rollback-journal mode (before WAL mode is
	// set) they pass through.
	if (!p->isWal && !p->wal) return RM(f)->xWrite(REAL(f), z, n, off);
	__atomic_add_fetch(&axWrites, 1, __ATOMIC_RELAXED);
	int rc = axTakeErr(p);
	if (rc != AX_OK) return rc;
	int commit = p->commitNext;
	// A frame header's bytes 4–7 are the database size after a commit,
	// zero for the other frames of a transaction.
	p->commitNext = p->isWal && n == AX_WAL_FRAME_HDR && (((const unsigned char*)z)[4] |
		((const unsigned char*)z)[5] | ((const unsigned char*)z)[6] | ((const unsigned char*)z)[7]) != 0;
	if (p->n > 0 && (off != p->off + p->n || p->n + n > AX_BUF_MAX)) {
		if ((rc = axFlush(p)) != AX_OK) return rc;
	}
	if (n > AX_BUF_MAX) return RM(f)->xWrite(REAL(f), z, n, off);
	if (p->n == 0) {
		if (!(p->buf = malloc(AX_BUF_MAX))) return AX_IOERR_NOMEM;
		p->off = off;
	}
	memcpy(p->buf + p->n, z, n);
	p->n += n;
	return commit ? axFlush(p) : AX_OK;
}

static int axTruncate(ax_file *f, ax_i64 size) { AX_SETTLED(xTruncate(REAL(f), size)); }
static int axSync(ax_file *f, int flags) { AX_SETTLED(xSync(REAL(f), flags)); }
static int axFileSize(ax_file *f, ax_i64 *size) { AX_SETTLED(xFileSize(REAL(f), size)); }
static int axLock(ax_file *f, int l) { AX_SETTLED(xLock(REAL(f), l)); }
static int axUnlock(ax_file *f, int l) { AX_SETTLED(xUnlock(REAL(f), l)); }
static int axCheckReservedLock(ax_file *f, int *out) { AX_SETTLED(xCheckReservedLock(REAL(f), out)); }
static int axFileControl(ax_file *f, int op, void *arg) { AX_SETTLED(xFileControl(REAL(f), op, arg)); }
static int axSectorSize(ax_file *f) { return RM(f)->xSectorSize(REAL(f)); }
static int axDeviceCharacteristics(ax_file *f) { return RM(f)->xDeviceCharacteristics(REAL(f)); }

// The shared-memory methods belong to the database file; its buffer and
// its WAL file's are written out before each of them.
static void axSettleForShm(ax_file *f) {
	axSettleLater((axFile*)f);
	axSettleLater(((axFile*)f)->wal);
}
static int axShmMap(ax_file *f, int pg, int sz, int extend, void volatile **pp) {
	return RM(f)->xShmMap(REAL(f), pg, sz, extend, pp);
}
static int axShmLock(ax_file *f, int offset, int n, int flags) {
	axSettleForShm(f);
	return RM(f)->xShmLock(REAL(f), offset, n, flags);
}
static void axShmBarrier(ax_file *f) {
	axSettleForShm(f);
	RM(f)->xShmBarrier(REAL(f));
}
static int axShmUnmap(ax_file *f, int del) {
	axSettleForShm(f);
	return RM(f)->xShmUnmap(REAL(f), del);
}
static int axFetch(ax_file *f, ax_i64 off, int n, void **pp) { AX_SETTLED(xFetch(REAL(f), off, n, pp)); }
static int axUnfetch(ax_file *f, ax_i64 off, void *p) { return RM(f)->xUnfetch(REAL(f), off, p); }

static int axIsOurs(ax_file *f) {
	return f && f->pMethods >= &axMethods[0] && f->pMethods <= &axMethods[3];
}

static int axOpen(ax_vfs *vfs, const char *name, ax_file *f, int flags, int *outFlags) {
	axFile *p = (axFile*)f;
	memset(p, 0, sizeof(*p));
	p->real = (ax_file*)&p[1];
	int rc = axReal->xOpen(axReal, name, p->real, flags, outFlags);
	if (!p->real->pMethods) {
		p->base.pMethods = 0;
		return rc;
	}
	int v = p->real->pMethods->iVersion;
	p->base.pMethods = &axMethods[v < 1 ? 1 : v > 3 ? 3 : v];
	if (rc == AX_OK && (flags & AX_OPEN_WAL) && name && sqlite3_database_file_object) {
		ax_file *db = sqlite3_database_file_object(name);
		if (axIsOurs(db)) {
			p->isWal = 1;
			p->db = (axFile*)db;
			p->db->wal = p;
		}
	}
	return rc;
}

static int axDelete(ax_vfs *v, const char *z, int s) { return axReal->xDelete(axReal, z, s); }
static int axAccess(ax_vfs *v, const char *z, int fl, int *o) { return axReal->xAccess(axReal, z, fl, o); }
static int axFullPathname(ax_vfs *v, const char *z, int n, char *o) { return axReal->xFullPathname(axReal, z, n, o); }
static void *axDlOpen(ax_vfs *v, const char *z) { return axReal->xDlOpen(axReal, z); }
static void axDlError(ax_vfs *v, int n, char *z) { axReal->xDlError(axReal, n, z); }
static void (*axDlSym(ax_vfs *v, void *h, const char *z))(void) { return axReal->xDlSym(axReal, h, z); }
static void axDlClose(ax_vfs *v, void *h) { axReal->xDlClose(axReal, h); }
static int axRandomness(ax_vfs *v, int n, char *z) { return axReal->xRandomness(axReal, n, z); }
static int axSleep(ax_vfs *v, int us) { return axReal->xSleep(axReal, us); }
static int axCurrentTime(ax_vfs *v, double *t) { return axReal->xCurrentTime(axReal, t); }
static int axGetLastError(ax_vfs *v, int n, char *z) { return axReal->xGetLastError(axReal, n, z); }
static int axCurrentTimeInt64(ax_vfs *v, ax_i64 *t) { return axReal->xCurrentTimeInt64(axReal, t); }

// axon_wal_vfs_register registers "axon-wal" over the default VFS: 0 when
// done. Version-2 VFS methods only (the system-call overrides are for
// SQLite's own tests).
static int axon_wal_vfs_register(void) {
	if (!sqlite3_vfs_find || !sqlite3_vfs_register || !sqlite3_database_file_object) return -1;
	axReal = sqlite3_vfs_find(0);
	if (!axReal || axReal->iVersion < 2 || !axReal->xCurrentTimeInt64) return -2;
	for (int v = 1; v <= 3; v++) {
		ax_io_methods *m = &axMethods[v];
		m->iVersion = v;
		m->xClose = axClose; m->xRead = axRead; m->xWrite = axWrite; m->xTruncate = axTruncate;
		m->xSync = axSync; m->xFileSize = axFileSize; m->xLock = axLock; m->xUnlock = axUnlock;
		m->xCheckReservedLock = axCheckReservedLock; m->xFileControl = axFileControl;
		m->xSectorSize = axSectorSize; m->xDeviceCharacteristics = axDeviceCharacteristics;
		if (v >= 2) { m->xShmMap = axShmMap; m->xShmLock = axShmLock; m->xShmBarrier = axShmBarrier; m->xShmUnmap = axShmUnmap; }
		if (v >= 3) { m->xFetch = axFetch; m->xUnfetch = axUnfetch; }
	}
	axVfs.iVersion = 2;
	axVfs.szOsFile = (int)sizeof(axFile) + axReal->szOsFile;
	axVfs.mxPathname = axReal->mxPathname;
	axVfs.zName = "axon-wal";
	axVfs.xOpen = axOpen; axVfs.xDelete = axDelete; axVfs.xAccess = axAccess;
	axVfs.xFullPathname = axFullPathname; axVfs.xDlOpen = axDlOpen; axVfs.xDlError = axDlError;
	axVfs.xDlSym = axDlSym; axVfs.xDlClose = axDlClose; axVfs.xRandomness = axRandomness;
	axVfs.xSleep = axSleep; axVfs.xCurrentTime = axCurrentTime; axVfs.xGetLastError = axGetLastError;
	axVfs.xCurrentTimeInt64 = axCurrentTimeInt64;
	return sqlite3_vfs_register(&axVfs, 0);
}

static void axon_wal_vfs_counts(unsigned long long *writes, unsigned long long *flushes) {
	*writes = __atomic_load_n(&axWrites, __ATOMIC_RELAXED);
	*flushes = __atomic_load_n(&axFlushes, __ATOMIC_RELAXED);
}
*/
import "C"

// walVFSRegistered is SQLite's answer to registering "axon-wal": 0 when
// done. After the memory statistics are off: registering initialises
// SQLite, after which sqlite3_config refuses.
var walVFSRegistered = func(afterMemstatus int) int {
	_ = afterMemstatus
	return int(C.axon_wal_vfs_register())
}(sqliteMemstatusOff)

// sqliteVFSParam selects the VFS in a go-sqlite3 DSN ("" when it could
// not be registered: SQLite's default then writes every frame itself).
func sqliteVFSParam() string {
	if walVFSRegistered != 0 {
		return ""
	}
	return "&vfs=axon-wal"
}

// walVFSCounts is what the VFS saw since the process started: the writes
// it gathered (WAL files, and database files in WAL mode), and the writes
// it made of them.
func walVFSCounts() (writes, flushes uint64) {
	var w, f C.ulonglong
	C.axon_wal_vfs_counts(&w, &f)
	return uint64(w), uint64(f)
}
