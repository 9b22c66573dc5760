package chaos_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/chaos"
	"github.com/bossraid/bossraid/internal/faults"
)

// The soak, for CHAOS_DURATION (a minute by default) inside `make test`: it fails on any
// violation, and when Postgres or Redis cannot be started here (never skipped).
func TestChaosSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("the chaos soak takes a minute or more")
	}
	d := time.Minute
	if raw := os.Getenv("CHAOS_DURATION"); raw != "" {
		var err error
		if d, err = time.ParseDuration(raw); err != nil || d <= 0 {
			t.Fatalf("CHAOS_DURATION=%q: want a positive duration like 60s", raw)
		}
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatalf("the soak needs redis-server on PATH: %v", err)
	}
	if _, err := os.Stat(filepath.Join(faults.PgBin, "initdb")); err != nil {
		t.Fatalf("the soak needs Postgres's programs in %s: %v", faults.PgBin, err)
	}
	bin, err := faults.BuildBinary(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	rep, err := chaos.Run(ctx, chaos.Options{Duration: d, Bin: bin, Log: logWriter{t}})
	if rep != nil {
		var b strings.Builder
		rep.Print(&b)
		t.Log("\n" + b.String())
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.Requests() == 0 || len(rep.Faults) == 0 {
		t.Fatalf("the soak sent %d requests and injected %d faults", rep.Requests(), len(rep.Faults))
	}
	if err := rep.Err(); err != nil {
		t.Fatal(err)
	}
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
