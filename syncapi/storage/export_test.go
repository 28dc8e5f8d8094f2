package storage

// SetManyRoomsChunk changes how many rooms one many-room query covers,
// so tests can cross chunk boundaries with a few rooms; it returns a
// function restoring the old value.
func SetManyRoomsChunk(n int) (restore func()) {
	old := manyRoomsChunk
	manyRoomsChunk = n
	return func() { manyRoomsChunk = old }
}
