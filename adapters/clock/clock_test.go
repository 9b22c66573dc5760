package clock_test

import (
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/clock"
)

func TestSystemNow(t *testing.T) {
	before := time.Now()
	got := clock.System{}.Now()
	after := time.Now()

	tests := []struct {
		name string
		ok   bool
	}{
		{"is UTC", got.Location() == time.UTC},
		{"not before the call", !got.Before(before)},
		{"not after the call", !got.After(after)},
		{"has no monotonic reading", got == got.Round(0)}, //nolint:staticcheck // == also compares the monotonic reading: the point here
	}
	for _, tt := range tests {
		if !tt.ok {
			t.Errorf("%s: failed for %v", tt.name, got)
		}
	}
}
