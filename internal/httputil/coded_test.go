package httputil

import (
	"errors"
	"fmt"
	"testing"
)

type codedErr struct{}

func (codedErr) Error() string                 { return "nope" }
func (codedErr) Matrix() (int, string, string) { return 403, "M_FORBIDDEN", "nope" }

func TestFromCoded(t *testing.T) {
	r, ok := FromCoded(fmt.Errorf("wrapped: %w", codedErr{}))
	if !ok || r.Code != 403 || r.JSON.(*MatrixError).ErrCode != "M_FORBIDDEN" {
		t.Fatalf("coded: %v %+v", ok, r)
	}
	if _, ok := FromCoded(errors.New("disk on fire")); ok {
		t.Fatal("a plain error was answered as a Matrix error")
	}
}
