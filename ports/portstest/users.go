// Package portstest holds one contract suite per store port. Every adapter that implements
// a port runs its suite, so the in-memory stores the use-case tests run on behave like the
// Postgres ones production runs on.
package portstest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// UserHarness is an empty player store.
type UserHarness struct {
	Users ports.UserStore
}

// RunUserStore checks a ports.UserStore. newHarness is called once per subtest and must
// return a store with no players in it.
func RunUserStore(t *testing.T, newHarness func(t *testing.T) UserHarness) {
	ctx := context.Background()

	t.Run("a new player is a player with a clean record", func(t *testing.T) {
		h := newHarness(t)
		u, err := h.Users.CreateUser(ctx, users.NewUser{
			Email: "hero@example.com", Nickname: "Hero", Phone: "+82-10-1234-5678", PasswordHash: "hash",
		})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		if u.ID <= 0 || u.Email != "hero@example.com" || u.Nickname != "Hero" || u.Phone != "+82-10-1234-5678" ||
			u.PasswordHash != "hash" || u.Role != users.RolePlayer || u.TotalScore != 0 ||
			u.ProfileImage != "" || u.CreatedAt.IsZero() || u.TokenVersion == 0 {
			t.Fatalf("CreateUser returned %+v", u)
		}
		got, err := h.Users.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("UserByID: %v", err)
		}
		requireSameUser(t, got, u)
	})

	t.Run("an email is taken whatever its case", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		_, err := h.Users.CreateUser(ctx, users.NewUser{Email: strings.ToUpper(p.Email), Nickname: "Other", PasswordHash: "h"})
		if !errors.Is(err, users.ErrEmailTaken) {
			t.Fatalf("same email in other case: got %v, want ErrEmailTaken", err)
		}
	})

	t.Run("a nickname is taken whatever its case, in any script", func(t *testing.T) {
		h := newHarness(t)
		for i, pair := range [][2]string{{"Hero", "hERO"}, {"Ärger", "äRGER"}, {"Οδυσσέας", "ΟΔΥΣΣΈΑΣ"}} {
			NewPlayer(t, h.Users, pair[0])
			_, err := h.Users.CreateUser(ctx, users.NewUser{Email: fmt.Sprintf("other%d@example.com", i), Nickname: pair[1], PasswordHash: "h"})
			if !errors.Is(err, users.ErrNicknameTaken) {
				t.Fatalf("%q after %q: got %v, want ErrNicknameTaken", pair[1], pair[0], err)
			}
		}
	})

	t.Run("the email is reported when both are taken", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		_, err := h.Users.CreateUser(ctx, users.NewUser{Email: p.Email, Nickname: "HERO", PasswordHash: "h"})
		if !errors.Is(err, users.ErrEmailTaken) {
			t.Fatalf("got %v, want ErrEmailTaken", err)
		}
	})

	t.Run("a refused sign-up leaves no trace", func(t *testing.T) {
		h := newHarness(t)
		NewPlayer(t, h.Users, "Hero")
		_, err := h.Users.CreateUser(ctx, users.NewUser{Email: "new@example.com", Nickname: "hero", PasswordHash: "h"})
		if !errors.Is(err, users.ErrNicknameTaken) {
			t.Fatalf("got %v, want ErrNicknameTaken", err)
		}
		if _, err := h.Users.UserByEmail(ctx, "new@example.com"); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("the refused email was kept: %v", err)
		}
	})

	t.Run("players are found by id, email and nickname whatever the case", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Ärger")
		NewPlayer(t, h.Users, "Other")
		for name, find := range map[string]func() (users.User, error){
			"id":       func() (users.User, error) { return h.Users.UserByID(ctx, p.ID) },
			"email":    func() (users.User, error) { return h.Users.UserByEmail(ctx, strings.ToUpper(p.Email)) },
			"nickname": func() (users.User, error) { return h.Users.UserByNickname(ctx, "äRGER") },
		} {
			got, err := find()
			if err != nil {
				t.Fatalf("by %s: %v", name, err)
			}
			requireSameUser(t, got, p)
		}
		if _, err := h.Users.UserByID(ctx, p.ID+1000); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("unknown id: got %v, want ErrNotFound", err)
		}
		if _, err := h.Users.UserByEmail(ctx, "nobody@example.com"); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("unknown email: got %v, want ErrNotFound", err)
		}
		if _, err := h.Users.UserByNickname(ctx, "nobody"); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("unknown nickname: got %v, want ErrNotFound", err)
		}
	})

	t.Run("nicknames of known players only", func(t *testing.T) {
		h := newHarness(t)
		a, b := NewPlayer(t, h.Users, "Alpha"), NewPlayer(t, h.Users, "Beta")
		got, err := h.Users.Nicknames(ctx, []int64{a.ID, b.ID, b.ID + 1000})
		if err != nil {
			t.Fatalf("Nicknames: %v", err)
		}
		if len(got) != 2 || got[a.ID] != "Alpha" || got[b.ID] != "Beta" {
			t.Fatalf("Nicknames = %v", got)
		}
		got, err = h.Users.Nicknames(ctx, nil)
		if err != nil || len(got) != 0 {
			t.Fatalf("Nicknames(nil) = %v, %v", got, err)
		}
	})

	t.Run("roles are granted and revoked by email", func(t *testing.T) {
		h := newHarness(t)
		p := NewPlayer(t, h.Users, "Hero")
		u, err := h.Users.SetRole(ctx, strings.ToUpper(p.Email), users.RoleAdmin)
		if err != nil || u.Role != users.RoleAdmin || u.ID != p.ID {
			t.Fatalf("SetRole admin = %+v, %v", u, err)
		}
		if got, _ := h.Users.UserByID(ctx, p.ID); got.Role != users.RoleAdmin {
			t.Fatalf("role after grant = %v", got.Role)
		}
		if u, err = h.Users.SetRole(ctx, p.Email, users.RolePlayer); err != nil || u.Role != users.RolePlayer {
			t.Fatalf("SetRole player = %+v, %v", u, err)
		}
		if _, err := h.Users.SetRole(ctx, "nobody@example.com", users.RoleAdmin); !errors.Is(err, users.ErrNotFound) {
			t.Fatalf("unknown email: got %v, want ErrNotFound", err)
		}
	})

	t.Run("simultaneous sign-ups with one nickname admit one", func(t *testing.T) {
		h := newHarness(t)
		const n = 20
		errs := make([]error, n)
		Simultaneously(n, func(i int) {
			_, errs[i] = h.Users.CreateUser(ctx, users.NewUser{
				Email: fmt.Sprintf("racer%d@example.com", i), Nickname: []string{"Racer", "RACER", "racer"}[i%3], PasswordHash: "h",
			})
		})
		created := 0
		for _, err := range errs {
			switch {
			case err == nil:
				created++
			case !errors.Is(err, users.ErrNicknameTaken):
				t.Fatalf("unexpected error: %v", err)
			}
		}
		if created != 1 {
			t.Fatalf("%d sign-ups succeeded, want 1", created)
		}
	})
}

// NewPlayer registers a player named nickname, with an email made from it.
func NewPlayer(t testing.TB, s ports.UserStore, nickname string) users.User {
	t.Helper()
	u, err := s.CreateUser(context.Background(), users.NewUser{
		Email: fmt.Sprintf("p%x@example.com", nickname), Nickname: nickname, PasswordHash: "hash",
	})
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", nickname, err)
	}
	return u
}

// Simultaneously runs fn(0..n-1) in n goroutines released at the same moment.
func Simultaneously(n int, fn func(i int)) {
	start := make(chan struct{})
	var ready, done sync.WaitGroup
	ready.Add(n)
	for i := range n {
		done.Go(func() {
			ready.Done()
			<-start
			fn(i)
		})
	}
	ready.Wait()
	close(start)
	done.Wait()
}

func requireSameUser(t *testing.T, got, want users.User) {
	t.Helper()
	if got.ID != want.ID || got.Email != want.Email || got.Nickname != want.Nickname || got.Phone != want.Phone ||
		got.ProfileImage != want.ProfileImage || got.PasswordHash != want.PasswordHash || got.Role != want.Role ||
		got.TokenVersion != want.TokenVersion || got.TotalScore != want.TotalScore || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("got player %+v, want %+v", got, want)
	}
}
