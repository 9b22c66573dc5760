package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/internal/testenv"
)

// `bossraid admin grant|revoke EMAIL` against a database of its own.
func TestAdminCommandGrantsAndRevokes(t *testing.T) {
	db, err := testenv.NewDatabase("cmd_admin")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Drop() })
	ctx := context.Background()
	store := postgres.NewUsers(db.DB)
	hero, err := store.CreateUser(ctx, users.NewUser{Email: "hero@example.com", Nickname: "Hero", PasswordHash: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	bystander, err := store.CreateUser(ctx, users.NewUser{Email: "other@example.com", Nickname: "Other", PasswordHash: "hash"})
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": db.URL}
	getenv := func(k string) string { return env[k] }
	admin := func(args ...string) (string, error) {
		var stdout, stderr bytes.Buffer
		err := run(ctx, append([]string{"admin"}, args...), getenv, &stdout, &stderr)
		return stdout.String(), err
	}
	role := func(id int64) users.Role {
		u, err := store.UserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return u.Role
	}

	// The email is matched whatever its case, as sign-in matches it.
	out, err := admin("grant", "  HERO@example.com ")
	if err != nil || !strings.Contains(out, "Hero (hero@example.com) is now admin") {
		t.Fatalf("grant: %q, %v", out, err)
	}
	if role(hero.ID) != users.RoleAdmin || role(bystander.ID) != users.RolePlayer {
		t.Fatal("grant changed the wrong roles")
	}
	if out, err := admin("grant", "hero@example.com"); err != nil || !strings.Contains(out, "is now admin") {
		t.Fatalf("grant again: %q, %v", out, err)
	}
	if out, err := admin("revoke", "hero@example.com"); err != nil || !strings.Contains(out, "is now player") {
		t.Fatalf("revoke: %q, %v", out, err)
	}
	if role(hero.ID) != users.RolePlayer {
		t.Fatal("revoke did not take")
	}

	out, err = admin("grant", "nobody@example.com")
	if err == nil || out != "" || !strings.Contains(err.Error(), `no player is registered with the email "nobody@example.com"`) {
		t.Fatalf("unknown email: %q, %v", out, err)
	}
	if errors.Is(err, errUsage) {
		t.Fatal("an unknown email is not a usage error")
	}
	for _, args := range [][]string{{}, {"grant"}, {"promote", "hero@example.com"}, {"grant", "a@example.com", "b@example.com"}} {
		if _, err := admin(args...); !errors.Is(err, errUsage) || !strings.Contains(err.Error(), "admin grant|revoke EMAIL") {
			t.Fatalf("admin %v: %v, want the usage", args, err)
		}
	}
	if role(hero.ID) != users.RolePlayer || role(bystander.ID) != users.RolePlayer {
		t.Fatal("refused commands changed roles")
	}
}

// Without a database the command says which setting to fix.
func TestAdminCommandNamesAnUnreachableDatabase(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // give up at once instead of retrying for 20 seconds
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=1"
		}
		return ""
	}
	err := run(ctx, []string{"admin", "grant", "hero@example.com"}, getenv, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("unreachable database: %v", err)
	}
}
