package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// closedPort is a local address nothing listens on.
const closedPort = "postgres://postgres@127.0.0.1:1/bossraid?sslmode=disable"

func TestOpenUnreachableIsUnavailableQuickly(t *testing.T) {
	began := time.Now()
	db, err := postgres.Open(context.Background(), closedPort, postgres.Options{})
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("Open: got %v, want ErrUnavailable", err)
	}
	if db != nil {
		t.Fatal("Open returned a pool for a database it could not reach")
	}
	if took := time.Since(began); took > 3*time.Second {
		t.Fatalf("Open took %v to give up", took)
	}
}

func TestStoresOnUnreachableDatabaseAreUnavailable(t *testing.T) {
	db, err := sql.Open("postgres", closedPort+"&connect_timeout=2")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	rs, us, ss, is, ts := postgres.NewRaids(db), postgres.NewUsers(db), postgres.NewSessions(db), postgres.NewImages(db), postgres.NewTotals(db)
	calls := map[string]func() error{
		"EnterRaid": func() error { _, err := rs.EnterRaid(ctx, 1, level2, time.Minute); return err },
		"UpdateRaid": func() error {
			_, _, err := rs.UpdateRaid(ctx, 1, func(r raids.Raid, _ time.Time) (raids.Raid, error) { return r, nil })
			return err
		},
		"CurrentRaid":      func() error { _, _, err := rs.CurrentRaid(ctx); return err },
		"History":          func() error { _, _, err := rs.History(ctx, 1, 0, 10); return err },
		"SweepExpired":     func() error { _, err := rs.SweepExpired(ctx); return err },
		"CreateUser":       func() error { _, err := us.CreateUser(ctx, users.NewUser{Email: "a@b.co", Nickname: "ab"}); return err },
		"UserByEmail":      func() error { _, err := us.UserByEmail(ctx, "a@b.co"); return err },
		"StartSession":     func() error { return ss.StartSession(ctx, ports.RefreshToken{ID: "x", UserID: 1}) },
		"RefreshTokenByID": func() error { _, err := ss.RefreshTokenByID(ctx, "x"); return err },
		"ProfileImage":     func() error { _, err := is.ProfileImage(ctx, "x"); return err },
		"Top":              func() error { _, err := ts.Top(ctx, 10); return err },
		"EachTotal":        func() error { return ts.EachTotal(ctx, 10, func([]raids.Total) error { return nil }) },
	}
	for name, call := range calls {
		began := time.Now()
		if err := call(); !errors.Is(err, ports.ErrUnavailable) {
			t.Errorf("%s: got %v, want ErrUnavailable", name, err)
		}
		if took := time.Since(began); took > 3*time.Second {
			t.Errorf("%s took %v to give up", name, took)
		}
	}
}

func TestSessionsRunUnderTheConfiguredTimeouts(t *testing.T) {
	db := openTest(t, postgres.Options{StatementTimeout: 1500 * time.Millisecond, LockTimeout: 700 * time.Millisecond, IdleInTransactionTimeout: 2 * time.Second})
	for name, want := range map[string]string{
		"statement_timeout": "1500ms", "lock_timeout": "700ms", "idle_in_transaction_session_timeout": "2s",
	} {
		var got string
		if err := db.QueryRow("SHOW " + name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("%s = %s, want %s", name, got, want)
		}
	}
	// A setting the DSN names itself wins.
	u, err := url.Parse(testURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("statement_timeout", "4321")
	u.RawQuery = q.Encode()
	dsnDB := openTestURL(t, u.String(), postgres.Options{})
	var got string
	if err := dsnDB.QueryRow("SHOW statement_timeout").Scan(&got); err != nil || got != "4321ms" {
		t.Fatalf("statement_timeout from the DSN = %q, %v", got, err)
	}
}

// A raid locked by a stuck transaction makes UpdateRaid give up with ErrUnavailable once
// lock_timeout passes, instead of waiting for the holder.
func TestHeldRaidLockIsUnavailableAfterLockTimeout(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	p := newPlayers(t, 1)[0]
	r, err := postgres.NewRaids(testDB).EnterRaid(ctx, p, level2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := testDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Rollback()
	if _, err := stuck.Exec(`SELECT 1 FROM raids WHERE id = $1 FOR UPDATE`, r.ID); err != nil {
		t.Fatal(err)
	}

	store := postgres.NewRaids(openTest(t, postgres.Options{LockTimeout: 300 * time.Millisecond}))
	began := time.Now()
	_, _, err = store.UpdateRaid(ctx, r.ID, endBy(p))
	t.Logf("locked raid: %v", err)
	if !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("UpdateRaid on a locked raid: got %v, want ErrUnavailable", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("gave up after %v", took)
	}
}

// An entry waiting behind another instance's unfinished entry gives up the same way.
func TestEntryBehindStuckEntryIsUnavailable(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	ids := newPlayers(t, 2)
	stuck, err := testDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Rollback()
	if _, err := stuck.Exec(`
		INSERT INTO raids (user_id, level, level_score, time_limit, status, deadline)
		VALUES ($1, 0, 20, interval '1 minute', 'in_progress', now() + interval '1 minute')`, ids[0]); err != nil {
		t.Fatal(err)
	}
	store := postgres.NewRaids(openTest(t, postgres.Options{LockTimeout: 300 * time.Millisecond}))
	began := time.Now()
	if _, err := store.EnterRaid(ctx, ids[1], level2, time.Minute); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("EnterRaid behind an unfinished entry: got %v, want ErrUnavailable", err)
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Fatalf("gave up after %v", took)
	}
}

// A caller's deadline ends the wait even when lock_timeout has not.
func TestCallerDeadlineIsUnavailable(t *testing.T) {
	emptyDatabase(t)
	ctx := context.Background()
	p := newPlayers(t, 1)[0]
	r, err := postgres.NewRaids(testDB).EnterRaid(ctx, p, level2, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	stuck, err := testDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Rollback()
	if _, err := stuck.Exec(`SELECT 1 FROM raids WHERE id = $1 FOR UPDATE`, r.ID); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	if _, _, err := postgres.NewRaids(testDB).UpdateRaid(short, r.ID, endBy(p)); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("got %v, want ErrUnavailable", err)
	}
	if took := time.Since(began); took > time.Second {
		t.Fatalf("gave up after %v", took)
	}
}

func TestSlowStatementAndAbandonedTransactionAreUnavailable(t *testing.T) {
	ctx := context.Background()
	db := openTest(t, postgres.Options{StatementTimeout: 200 * time.Millisecond, IdleInTransactionTimeout: 300 * time.Millisecond})

	_, err := db.ExecContext(ctx, `SELECT pg_sleep(5)`)
	t.Logf("past statement_timeout: %v", err)
	if err = postgres.DBError("sleep", err); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("statement past statement_timeout: got %v, want ErrUnavailable", err)
	}

	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond) // the server ends the session meanwhile
	_, err = tx.ExecContext(ctx, `SELECT 1`)
	t.Logf("after idle_in_transaction_session_timeout: %v", err)
	if err = postgres.DBError("after idling", err); !errors.Is(err, ports.ErrUnavailable) {
		t.Fatalf("abandoned transaction: got %v, want ErrUnavailable", err)
	}
}

func TestDriverErrorsMapOnce(t *testing.T) {
	unavailable := []error{
		context.DeadlineExceeded,
		driver.ErrBadConn,
		io.EOF,
		io.ErrUnexpectedEOF,
		fmt.Errorf("dial: %w", syscall.ECONNREFUSED),
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
	}
	for _, code := range []string{"57014", "55P03", "25P03", "57P01", "57P02", "57P03", "53300", "08006", "08001", "40P01"} {
		unavailable = append(unavailable, &pq.Error{Code: pqerror.Code(code)})
	}
	for _, err := range unavailable {
		if got := postgres.DBError("op", err); !errors.Is(got, ports.ErrUnavailable) {
			t.Errorf("%v (%T) maps to %v, want ErrUnavailable", err, err, got)
		}
	}
	for _, tc := range []struct {
		err  error
		want error
	}{
		{&pq.Error{Code: "23505", Constraint: "users_email_key"}, users.ErrEmailTaken},
		{&pq.Error{Code: "23505", Constraint: "users_nickname_key"}, users.ErrNicknameTaken},
	} {
		if got := postgres.DBError("op", tc.err); !errors.Is(got, tc.want) {
			t.Errorf("%v maps to %v, want %v", tc.err, got, tc.want)
		}
	}
	for _, err := range []error{
		&pq.Error{Code: "23505", Constraint: "refresh_tokens_pkey"},
		&pq.Error{Code: "23514"},
		&pq.Error{Code: "42P01"},
		context.Canceled,
	} {
		got := postgres.DBError("op", err)
		if errors.Is(got, ports.ErrUnavailable) || errors.Is(got, users.ErrEmailTaken) || !errors.Is(got, err) {
			t.Errorf("%v maps to %v, want it passed through", err, got)
		}
	}
	if postgres.DBError("op", nil) != nil {
		t.Error("nil maps to an error")
	}
}

func openTest(t *testing.T, opts postgres.Options) *sql.DB {
	t.Helper()
	return openTestURL(t, testURL, opts)
}

func openTestURL(t *testing.T, dsn string, opts postgres.Options) *sql.DB {
	t.Helper()
	opts.MaxOpenConns = 2
	db, err := postgres.Open(context.Background(), dsn, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
