package server

import (
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	asapi "github.com/axon-hs/axon/appservice/api"
	fedapi "github.com/axon-hs/axon/federationapi/api"
	"github.com/axon-hs/axon/internal/rpc"
	ksapi "github.com/axon-hs/axon/keyserver/api"
	mapi "github.com/axon-hs/axon/mediaapi/api"
	rapi "github.com/axon-hs/axon/reports/api"
	rsapi "github.com/axon-hs/axon/roomserver/api"
	uapi "github.com/axon-hs/axon/userapi/api"
)

// apiErrors lists every exported error variable of the api packages, by
// package directory and name. TestAPIErrorsListed keeps it complete.
var apiErrors = map[string]map[string]error{
	"../userapi/api": {
		"ErrNotFound": uapi.ErrNotFound, "ErrUserInUse": uapi.ErrUserInUse, "ErrInvalidUsername": uapi.ErrInvalidUsername,
		"ErrInvalidPassword": uapi.ErrInvalidPassword, "ErrUserDeactivated": uapi.ErrUserDeactivated,
		"ErrUnknownToken": uapi.ErrUnknownToken, "ErrTokenExpired": uapi.ErrTokenExpired, "ErrProfileTooLarge": uapi.ErrProfileTooLarge,
		"ErrTooManyTags": uapi.ErrTooManyTags, "ErrTokenExists": uapi.ErrTokenExists,
		"ErrInvalidLoginToken": uapi.ErrInvalidLoginToken,
	},
	"../keyserver/api": {
		"ErrInvalidKeys": ksapi.ErrInvalidKeys, "ErrInvalidSignature": ksapi.ErrInvalidSignature,
		"ErrMissingMasterKey": ksapi.ErrMissingMasterKey, "ErrKeyInUse": ksapi.ErrKeyInUse, "ErrNoBackup": ksapi.ErrNoBackup,
		"ErrWrongBackupVersion": ksapi.ErrWrongBackupVersion, "ErrNotLocal": ksapi.ErrNotLocal,
	},
	"../roomserver/api": {"ErrRoomNotFound": rsapi.ErrRoomNotFound},
	"../appservice/api": {
		"ErrUnknownAppservice": asapi.ErrUnknownAppservice, "ErrNoURL": asapi.ErrNoURL, "ErrUnknownProtocol": asapi.ErrUnknownProtocol,
	},
	"../federationapi/api": {},
	"../reports/api":       {"ErrNotFound": rapi.ErrNotFound},
	"../mediaapi/api":      {"ErrNotFound": mapi.ErrNotFound, "ErrInvalidOrder": mapi.ErrInvalidOrder},
	"../syncapi/api":       {},
}

// TestAPIErrorsListed finds the exported Err* variables in the api
// packages' source, so a new one cannot be left out of the RPC test.
func TestAPIErrorsListed(t *testing.T) {
	dirs, err := filepath.Glob("../*/api")
	if err != nil || len(dirs) < 5 {
		t.Fatalf("api packages: %v %v", dirs, err)
	}
	for _, dir := range dirs {
		if _, ok := apiErrors[filepath.ToSlash(dir)]; !ok {
			t.Errorf("%s is not in apiErrors (add its exported errors)", dir)
		}
	}
	for dir, listed := range apiErrors {
		found := map[string]bool{}
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, src, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.VAR {
					continue
				}
				for _, spec := range gd.Specs {
					for _, name := range spec.(*ast.ValueSpec).Names {
						if name.IsExported() && strings.HasPrefix(name.Name, "Err") {
							found[name.Name] = true
						}
					}
				}
			}
		}
		for name := range found {
			if _, ok := listed[name]; !ok {
				t.Errorf("%s.%s is not in apiErrors (add it, and register it with internal/rpc in its package)", dir, name)
			}
		}
		for name := range listed {
			if !found[name] {
				t.Errorf("%s.%s is listed but not declared", dir, name)
			}
		}
	}
}

// TestAPIErrorsCrossRPC: every domain error keeps its identity through
// internal/rpc, wrapped with detail or not, so callers in a polylith tell
// them apart as a monolith does.
func TestAPIErrorsCrossRPC(t *testing.T) {
	for dir, errs := range apiErrors {
		for name, want := range errs {
			for _, sent := range []error{want, fmt.Errorf("detail: %w", want)} {
				if got := rpc.RoundTrip(sent); !errors.Is(got, want) {
					t.Errorf("%s.%s: after RPC got %v (%T), errors.Is fails", dir, name, got, got)
				}
			}
		}
	}
	var rs *rsapi.Error
	if got := rpc.RoundTrip(fmt.Errorf("x: %w", rsapi.Errorf(rsapi.CodeForbidden, "no"))); !errors.As(got, &rs) || rs.Code != rsapi.CodeForbidden {
		t.Errorf("roomserver error after RPC: %v", got)
	}
	var pe *asapi.PingError
	if got := rpc.RoundTrip(&asapi.PingError{Kind: "status", Status: 403, Body: "no"}); !errors.As(got, &pe) || pe.Status != 403 || pe.Body != "no" {
		t.Errorf("appservice ping error after RPC: %v", got)
	}
	var fe *fedapi.Error
	if got := rpc.RoundTrip(&fedapi.Error{Status: 404, Code: "M_NOT_FOUND", Message: "gone"}); !errors.As(got, &fe) || fe.Status != 404 {
		t.Errorf("federation error after RPC: %v", got)
	}
}
