package matrixrules

import "testing"

func TestDeviceListUpdateStep(t *testing.T) {
	cases := []struct {
		name     string
		last     int64
		seen     bool
		streamID int64
		prev     []int64
		want     DeviceListStep
	}{
		{"announcement, first seen", 0, false, 5, nil, DeviceListRecord},
		{"first change, none seen", 0, false, 1, []int64{0}, DeviceListResync},
		{"next change", 4, true, 5, []int64{4}, DeviceListApply},
		{"duplicate", 5, true, 5, []int64{4}, DeviceListIgnore},
		{"older", 5, true, 3, []int64{2}, DeviceListIgnore},
		{"duplicate announcement", 5, true, 5, nil, DeviceListIgnore},
		{"announcement after a gap", 2, true, 5, nil, DeviceListApply},
		{"missed updates", 2, true, 5, []int64{4}, DeviceListResync},
		{"several prev, all seen", 4, true, 6, []int64{3, 4}, DeviceListApply},
	}
	for _, c := range cases {
		if got := DeviceListUpdateStep(c.last, c.seen, c.streamID, c.prev); got != c.want {
			t.Errorf("%s: got %d, want %d", c.name, got, c.want)
		}
	}
}
