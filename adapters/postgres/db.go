// Package postgres keeps Boss Raid's durable state in Postgres through lib/pq: players,
// refresh tokens, profile images, raids and the totals the ranking is rebuilt from.
package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/lib/pq"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Options are the pool limits and the timeouts every connection runs under. Zero fields take
// the defaults of DefaultOptions.
type Options struct {
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
	// ConnectTimeout bounds dialling and the start-up handshake.
	ConnectTimeout time.Duration
	// StatementTimeout, LockTimeout and IdleInTransactionTimeout are set on every session, so a
	// stuck statement, a held lock or an abandoned transaction turns into ErrUnavailable
	// within seconds instead of piling requests up behind it.
	StatementTimeout         time.Duration
	LockTimeout              time.Duration
	IdleInTransactionTimeout time.Duration
	// ReadTimeout bounds each wait for the server on a connection; zero derives it from
	// StatementTimeout. It is what turns a server that stopped answering without closing
	// its connections (frozen, cut off) into ErrUnavailable: lib/pq cannot interrupt a read
	// when the caller's context ends.
	ReadTimeout time.Duration
}

// DefaultOptions suit one app instance on a small machine.
func DefaultOptions() Options {
	return Options{
		MaxOpenConns:             20,
		MaxIdleConns:             20,
		ConnMaxLifetime:          30 * time.Minute,
		ConnMaxIdleTime:          5 * time.Minute,
		ConnectTimeout:           5 * time.Second,
		StatementTimeout:         5 * time.Second,
		LockTimeout:              3 * time.Second,
		IdleInTransactionTimeout: 10 * time.Second,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = d.MaxOpenConns
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = o.MaxOpenConns
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = d.ConnMaxLifetime
	}
	if o.ConnMaxIdleTime <= 0 {
		o.ConnMaxIdleTime = d.ConnMaxIdleTime
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = d.ConnectTimeout
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = d.StatementTimeout
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = d.LockTimeout
	}
	if o.IdleInTransactionTimeout <= 0 {
		o.IdleInTransactionTimeout = d.IdleInTransactionTimeout
	}
	if o.ReadTimeout <= 0 {
		// A statement the server cancels answers just after its timeout; wait a little longer.
		o.ReadTimeout = o.StatementTimeout + 500*time.Millisecond
	}
	return o
}

// Open connects to the database at dsn (a postgres:// URL or key=value string, naming one host
// or several to fail over between, see KeyValueDSN) and checks that it answers. Settings the
// DSN names itself win over opts. An unreachable database gives an error wrapping
// ports.ErrUnavailable.
func Open(ctx context.Context, dsn string, opts Options) (*sql.DB, error) {
	opts = opts.withDefaults()
	cfg, err := ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse DATABASE_URL: %w", err)
	}
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = opts.ConnectTimeout
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	setDefault(cfg.Runtime, "statement_timeout", opts.StatementTimeout)
	setDefault(cfg.Runtime, "lock_timeout", opts.LockTimeout)
	setDefault(cfg.Runtime, "idle_in_transaction_session_timeout", opts.IdleInTransactionTimeout)
	if _, ok := cfg.Runtime["application_name"]; !ok {
		cfg.Runtime["application_name"] = "bossraid"
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	connector.Dialer(deadlineDialer{timeout: opts.ReadTimeout})
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxIdleConns)
	db.SetConnMaxLifetime(opts.ConnMaxLifetime)
	db.SetConnMaxIdleTime(opts.ConnMaxIdleTime)

	pingCtx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout+time.Second)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, dbError("postgres: connect", err)
	}
	return db, nil
}

func setDefault(runtime map[string]string, name string, d time.Duration) {
	if _, ok := runtime[name]; !ok {
		// Postgres reads a bare number as ms, and 0 as "no limit", so never round down to 0.
		runtime[name] = strconv.FormatInt(max(d.Milliseconds(), 1), 10)
	}
}

// callTimeout bounds every store call, so a caller without a deadline never waits forever
// for a pool connection or a database that stopped answering.
const callTimeout = 15 * time.Second

func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

// dbError is the one place driver errors become what the ports promise: anything that says
// "the database cannot answer now" wraps ports.ErrUnavailable, a taken email or nickname is
// the users error, the rest passes through wrapped with op.
func dbError(op string, err error) error {
	if err == nil {
		return nil
	}
	if pqErr := pq.As(err); pqErr != nil {
		switch {
		case pqErr.Code == "23505" && pqErr.Constraint == "users_email_key":
			return users.ErrEmailTaken
		case pqErr.Code == "23505" && pqErr.Constraint == "users_nickname_key":
			return users.ErrNicknameTaken
		case unavailableCode(string(pqErr.Code)):
			return fmt.Errorf("%s: %w (%w)", op, ports.ErrUnavailable, err)
		}
		return fmt.Errorf("%s: %w", op, err)
	}
	if unreachable(err) {
		return fmt.Errorf("%s: %w (%w)", op, ports.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// unavailableCode reports SQLSTATEs that mean "try again later", not "your request is wrong".
func unavailableCode(code string) bool {
	switch code {
	case "57014", // query_canceled: statement_timeout or a cancelled context
		"55P03",                   // lock_not_available: lock_timeout
		"25P03",                   // idle_in_transaction_session_timeout killed the session
		"57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
		"25006",          // read_only_sql_transaction: the server is (now) a standby; the pool finds the primary
		"40001", "40P01": // serialization failure, deadlock: transient by definition
		return true
	}
	class := code[:min(2, len(code))]
	return class == "08" || class == "53" // connection exceptions; out of connections, memory or disk
}

func unreachable(err error) bool {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, driver.ErrBadConn),
		errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.EOF),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.As(err, &netErr):
		return true
	}
	return false
}

// inTx runs fn in a READ COMMITTED transaction, committing when fn returns nil. fn's error
// comes back as it is, so fn decides how to wrap its own.
func inTx(ctx context.Context, db *sql.DB, op string, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		return dbError(op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		// A deadline that passed mid-transaction can surface as sql.ErrTxDone; keep the reason.
		return dbError(op, errors.Join(err, ctx.Err()))
	}
	return nil
}

// deadlineDialer opens connections whose every read and write must finish within timeout.
type deadlineDialer struct {
	d       net.Dialer
	timeout time.Duration
}

func (dd deadlineDialer) Dial(network, address string) (net.Conn, error) {
	return dd.DialContext(context.Background(), network, address)
}

func (dd deadlineDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return dd.DialContext(ctx, network, address)
}

func (dd deadlineDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := dd.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return deadlineConn{Conn: c, timeout: dd.timeout}, nil
}

type deadlineConn struct {
	net.Conn
	timeout time.Duration
}

func (c deadlineConn) Read(b []byte) (int, error) {
	if err := c.SetReadDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c deadlineConn) Write(b []byte) (int, error) {
	if err := c.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}

// statements prepares each hot read once per pool. database/sql then prepares it again on
// every connection that runs it, so those reads skip Postgres's parsing and planning, which
// cost several times their execution (a seek on an index). Behind PgBouncer this needs session
// pooling (or 1.21's max_prepared_statements in transaction pooling).
type statements struct {
	db *sql.DB
	m  sync.Map // query text → *sql.Stmt
}

func (s *statements) prepared(ctx context.Context, query string) (*sql.Stmt, error) {
	if st, ok := s.m.Load(query); ok {
		return st.(*sql.Stmt), nil
	}
	st, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if had, loaded := s.m.LoadOrStore(query, st); loaded {
		_ = st.Close() //nolint:sqlclosecheck // another caller's statement won: ours is not needed
		return had.(*sql.Stmt), nil
	}
	return st, nil
}

// query runs a prepared query.
func (s *statements) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := s.prepared(ctx, query) //nolint:sqlclosecheck // kept for the pool's lifetime
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// queryRow runs a prepared query for one row; when it cannot be prepared, the unprepared
// query reports why.
func (s *statements) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	st, err := s.prepared(ctx, query) //nolint:sqlclosecheck // kept for the pool's lifetime
	if err != nil {
		return s.db.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}
