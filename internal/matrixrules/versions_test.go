package matrixrules

import (
	"testing"

	"github.com/matrix-org/gomatrixserverlib"
)

func TestSupportedVersionsAreKnownAndStable(t *testing.T) {
	if !IsSupported(DefaultVersion) {
		t.Fatalf("default version %q is not supported", DefaultVersion)
	}
	for _, v := range SupportedVersions {
		impl, err := Version(v)
		if err != nil {
			t.Fatalf("%s: %v", v, err)
		}
		if impl.Version() != gomatrixserverlib.RoomVersion(v) {
			t.Fatalf("%s: gomatrixserverlib gave %s", v, impl.Version())
		}
	}
	stability := VersionStability()
	if len(stability) != len(SupportedVersions) || stability["12"] != "stable" {
		t.Fatalf("stability = %v", stability)
	}
}

func TestUnsupportedVersions(t *testing.T) {
	// gomatrixserverlib knows these, but this server does not implement them.
	for _, v := range []string{"", "0", "13", "99", "org.matrix.msc4242.12", "org.matrix.hydra.11"} {
		if IsSupported(v) {
			t.Fatalf("%q supported", v)
		}
		if _, err := Version(v); err == nil {
			t.Fatalf("%q: no error", v)
		}
		if f := FeaturesOf(v); f != (Features{}) {
			t.Fatalf("%q has features %+v", v, f)
		}
	}
}

func TestFeaturesOf(t *testing.T) {
	// Columns: creators privileged, creator in content, server-named room
	// IDs, knock, restricted, knock_restricted, redacts in content.
	type f = Features
	cases := map[string]Features{
		"1":  f{false, true, true, false, false, false, false},
		"6":  f{false, true, true, false, false, false, false},
		"7":  f{false, true, true, true, false, false, false},
		"8":  f{false, true, true, true, true, false, false},
		"9":  f{false, true, true, true, true, false, false},
		"10": f{false, true, true, true, true, true, false},
		"11": f{false, false, true, true, true, true, true},
		"12": f{true, false, false, true, true, true, true},
	}
	for v, want := range cases {
		if got := FeaturesOf(v); got != want {
			t.Errorf("v%s: got %+v, want %+v", v, got, want)
		}
	}
}
