package faults

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// StartStandby makes a synchronous hot standby of pg with pg_basebackup, on its own port and
// directory: pg acknowledges a commit only once the standby has it, so promoting the standby
// loses no acknowledged write. It is stopped and removed when the test ends.
func (pg *Postgres) StartStandby(t testing.TB, name string) *Postgres {
	t.Helper()
	root, err := openDir("bossraid-faults-standby-*")
	if err != nil {
		t.Fatal(err)
	}
	sb := &Postgres{root: root, data: filepath.Join(root, "data"), log: filepath.Join(root, "postgres.log")}
	t.Cleanup(func() {
		_ = asPostgres("pg_ctl", "-D", sb.data, "-m", "immediate", "-w", "-t", "20", "stop").Run()
		_ = os.RemoveAll(root)
	})
	if err := os.WriteFile(sb.log, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := giveToPostgres(root); err != nil {
		t.Fatal(err)
	}
	if sb.Port, err = FreePort(); err != nil {
		t.Fatal(err)
	}
	// -R writes standby.signal and primary_conninfo; application_name names the standby in
	// synchronous_standby_names.
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%d user=postgres application_name=%s", pg.Port, name)
	if out, err := asPostgres("pg_basebackup", "-d", conninfo, "-D", sb.data, "-R", "-X", "stream",
		"--no-sync", "-c", "fast").CombinedOutput(); err != nil {
		t.Fatalf("pg_basebackup: %v\n%s", err, out)
	}
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	db := OpenDB(t, pg.URL("postgres"))
	defer db.Close()
	for _, q := range []string{
		fmt.Sprintf(`ALTER SYSTEM SET synchronous_standby_names = '%s'`, name),
		`SELECT pg_reload_conf()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("make %s synchronous: %v", name, err)
		}
	}
	Eventually(t, 20*time.Second, name+" replicating synchronously", func() error {
		var state string
		err := db.QueryRow(`SELECT sync_state FROM pg_stat_replication WHERE application_name = $1`, name).Scan(&state)
		if err == nil && state != "sync" {
			err = fmt.Errorf("sync_state %s", state)
		}
		return err
	})
	return sb
}

// FailoverURL is the libpq URL naming every host, the first one that takes writes winning.
func FailoverURL(name string, hosts ...*Postgres) string {
	url := "postgres://postgres@"
	for i, h := range hosts {
		if i > 0 {
			url += ","
		}
		url += fmt.Sprintf("127.0.0.1:%d", h.Port)
	}
	return url + "/" + name + "?sslmode=disable&target_session_attrs=read-write"
}

// Promote turns a standby into a primary that takes writes, and waits until it does.
func (pg *Postgres) Promote() error {
	out, err := asPostgres("pg_ctl", "-D", pg.data, "-w", "-t", "30", "promote").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl promote: %v\n%s", err, out)
	}
	return nil
}
