package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bossraid/bossraid/internal/testenv"
)

// serve refuses a database that lacks migrations and names the command that fixes it;
// `migrate status` lists what is pending and `migrate up` applies it.
func TestServeRefusesAnOutdatedSchema(t *testing.T) {
	admin, err := sql.Open("postgres", testenv.AdminDatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("bossraid_test_cmd_schema_%d", time.Now().UnixNano())
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		_ = admin.Close()
		t.Fatal(err)
	}
	// Closed only after the drop: a deferred Close ran first and every drop failed unseen.
	t.Cleanup(func() {
		defer admin.Close()
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("drop %s: %v", name, err)
		}
	})
	u, err := url.Parse(testenv.AdminDatabaseURL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	env := map[string]string{
		"DATABASE_URL": u.String(), "REDIS_URL": testenv.RedisURLFor(4), "HTTP_ADDR": "127.0.0.1:0",
		"SECRET_KEY": strings.Repeat("s", 32),
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var stderr bytes.Buffer
	err = run(ctx, []string{"serve"}, getenv, os.Stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "bossraid migrate up") {
		t.Fatalf("serve on an empty database: %v, want a refusal naming `bossraid migrate up`", err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"migrate", "status"}, getenv, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pending") || !strings.Contains(out.String(), "bossraid migrate up") {
		t.Fatalf("migrate status on an empty database:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "up"}, getenv, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := run(ctx, []string{"migrate", "status"}, getenv, &out, &stderr); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "pending") {
		t.Fatalf("migrate status after up:\n%s", out.String())
	}
}

func TestServeRefusesBadBossData(t *testing.T) {
	file := t.TempDir() + "/boss.json"
	if err := os.WriteFile(file, []byte(`{"bossRaids":[{"bossRaidLimitSeconds":180,"levels":[]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"BOSSRAID_DATA": file, "SECRET_KEY": strings.Repeat("s", 32)}
	err := run(context.Background(), []string{"serve"}, func(k string) string { return env[k] }, os.Stdout, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "levels is empty") || !strings.Contains(err.Error(), file) {
		t.Fatalf("serve with bad boss data: %v", err)
	}
}
