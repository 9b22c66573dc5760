package postgres

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/lib/pq"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

// Queue is the ports.RaidQueue on raid_queue and raid_queue_state (migration 00008). Every
// change to the line first takes the queue lock (an advisory transaction lock) exclusively, so
// changes to the line happen one at a time in commit order, each judged at clock_timestamp()
// taken once the lock is granted. Entering the raid (Raids.EnterRaid) takes the same lock
// shared while it only reads the line, so entries still race each other as before (the
// unique index decides) but never overlap a join or a leave.
type Queue struct {
	db *sql.DB
}

// NewQueue returns the queue store on db.
func NewQueue(db *sql.DB) *Queue { return &Queue{db: db} }

var _ ports.RaidQueue = (*Queue)(nil)

// lockedLine is the line judged inside a transaction that holds the queue lock.
type lockedLine struct {
	raids.Line
	now    time.Time
	inside int64 // the player inside the raid at now, 0 when it is free
}

// lineQuery reads, in one statement (so from one snapshot), everything the line is judged
// from at $1 (the database's now() when NULL): one row per waiting player in order, or one
// row of NULLs after the facts when nobody waits. The latest raid entered says when the raid
// last freed (its end, or its deadline while still stored in progress).
const lineQuery = `
	WITH t AS (SELECT coalesce($1::timestamptz, now()) AS now)
	SELECT t.now, s.turn_from, s.turns_taken, s.turns_lapsed,
		(SELECT user_id FROM raids WHERE status = 'in_progress' AND deadline > t.now),
		(SELECT CASE WHEN status = 'in_progress' THEN deadline ELSE end_time END
		 FROM raids ORDER BY enter_time DESC, id DESC LIMIT 1),
		w.user_id, w.nickname, w.joined_at, w.micros
	FROM t CROSS JOIN raid_queue_state s
	LEFT JOIN (
		SELECT q.seq, q.user_id, u.nickname, q.joined_at, (extract(epoch FROM q.turn) * 1000000)::bigint AS micros
		FROM raid_queue q JOIN users u ON u.id = q.user_id) w ON true
	ORDER BY w.seq`

// querier is a transaction or the pool.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// readLine judges the line at now (the database's now when zero) as one statement sees it.
func readLine(ctx context.Context, q querier, at time.Time) (lockedLine, error) {
	var arg any
	if !at.IsZero() {
		arg = at
	}
	rows, err := q.QueryContext(ctx, lineQuery, arg)
	if err != nil {
		return lockedLine{}, dbError("queue: read", err)
	}
	defer rows.Close()
	var now time.Time
	var turnFrom, freed sql.NullTime
	var inside sql.NullInt64
	var taken, lapsed int64
	var stored []raids.Waiting
	for rows.Next() {
		var id, micros sql.NullInt64
		var nickname sql.NullString
		var joined sql.NullTime
		if err := rows.Scan(&now, &turnFrom, &taken, &lapsed, &inside, &freed, &id, &nickname, &joined, &micros); err != nil {
			return lockedLine{}, dbError("queue: read", err)
		}
		if id.Valid {
			stored = append(stored, raids.Waiting{
				UserID: id.Int64, Nickname: nickname.String, JoinedAt: joined.Time.UTC(),
				Turn: time.Duration(micros.Int64) * time.Microsecond,
			})
		}
	}
	if err := rows.Err(); err != nil {
		return lockedLine{}, dbError("queue: read", err)
	}
	now = now.UTC()
	since := freed.Time
	if turnFrom.Valid && turnFrom.Time.After(since) {
		since = turnFrom.Time
	}
	l := raids.LineAt(stored, inside.Valid, since.UTC(), now)
	l.TurnsTaken, l.TurnsLapsed = taken, lapsed+int64(l.Lapsed)
	return lockedLine{Line: l, now: now, inside: inside.Int64}, nil
}

// queueLock is the advisory lock key of the line ("raid_q").
const queueLock = 0x72616964_5f71

// lockLine takes the queue lock exclusively, judges the line at the time the lock was granted
// and removes the players whose turns lapsed.
func lockLine(ctx context.Context, tx *sql.Tx) (lockedLine, error) {
	return takeLine(ctx, tx, true)
}

// takeLine takes the queue lock, exclusively or shared, and judges the line at the time it
// was granted. Only an exclusive holder may change the line; it removes the lapsed players.
func takeLine(ctx context.Context, tx *sql.Tx, exclusive bool) (lockedLine, error) {
	lock := `pg_advisory_xact_lock_shared($1)`
	if exclusive {
		lock = `pg_advisory_xact_lock($1)`
	}
	var now time.Time
	// OFFSET 0 keeps the lock in a subquery evaluated first: the time is read once it is granted.
	if err := tx.QueryRowContext(ctx,
		`SELECT clock_timestamp() FROM (SELECT `+lock+` OFFSET 0) l`, queueLock).Scan(&now); err != nil {
		return lockedLine{}, dbError("queue: lock", err)
	}
	l, err := readLine(ctx, tx, now.UTC())
	if err != nil || l.Lapsed == 0 || !exclusive {
		return l, err
	}
	// The lapsed players are the first l.Lapsed of the stored line.
	if _, err := tx.ExecContext(ctx, `
		DELETE FROM raid_queue WHERE seq IN (SELECT seq FROM raid_queue ORDER BY seq LIMIT $1)`, l.Lapsed); err != nil {
		return lockedLine{}, dbError("queue: tidy", err)
	}
	var from any // the holder's turn started when the last lapsed one ended
	if r := l.Reservation; r != nil {
		from = r.Since
	}
	if _, err := tx.ExecContext(ctx,
		`UPDATE raid_queue_state SET turn_from = $1, turns_lapsed = turns_lapsed + $2`, from, l.Lapsed); err != nil {
		return lockedLine{}, dbError("queue: tidy", err)
	}
	l.Lapsed = 0
	return l, nil
}

// leaveLine takes the player out of the locked line: when they held the turn, the next
// player's turn starts now. It reports whether they were waiting.
func leaveLine(ctx context.Context, tx *sql.Tx, l lockedLine, userID int64) (bool, error) {
	if l.Position(userID) == 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM raid_queue WHERE user_id = $1`, userID); err != nil {
		return false, dbError("queue: leave", err)
	}
	switch {
	case len(l.Waiting) == 1:
		_, err := tx.ExecContext(ctx, `UPDATE raid_queue_state SET turn_from = NULL`)
		return true, dbError("queue: leave", err)
	case l.Reservation != nil && l.Reservation.UserID == userID:
		_, err := tx.ExecContext(ctx, `UPDATE raid_queue_state SET turn_from = $1`, l.now)
		return true, dbError("queue: leave", err)
	}
	return true, nil
}

// JoinQueue puts the player at the back of the line.
func (s *Queue) JoinQueue(ctx context.Context, userID int64, turn time.Duration) (int, error) {
	if turn < time.Microsecond {
		return 0, errors.New("join queue: the turn is shorter than a microsecond")
	}
	ctx, cancel := bounded(ctx)
	defer cancel()
	var position int
	err := inTx(ctx, s.db, "join queue", func(tx *sql.Tx) error {
		l, err := lockLine(ctx, tx)
		if err != nil {
			return err
		}
		if err := l.CheckJoin(userID, l.inside); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			WITH n AS (UPDATE raid_queue_state SET next_seq = next_seq + 1 RETURNING next_seq)
			INSERT INTO raid_queue (user_id, seq, joined_at, turn)
			SELECT $1, n.next_seq, $2, $3::interval FROM n`, userID, l.now, interval(turn))
		if pq.As(err, "23503") != nil {
			return users.ErrNotFound
		}
		if err != nil {
			return dbError("join queue", err)
		}
		position = len(l.Waiting) + 1
		return nil
	})
	return position, err
}

// LeaveQueue takes the player out of the line.
func (s *Queue) LeaveQueue(ctx context.Context, userID int64) error {
	ctx, cancel := bounded(ctx)
	defer cancel()
	return inTx(ctx, s.db, "leave queue", func(tx *sql.Tx) error {
		l, err := lockLine(ctx, tx)
		if err != nil {
			return err
		}
		left, err := leaveLine(ctx, tx, l, userID)
		if err == nil && !left {
			return raids.ErrNotQueued
		}
		return err
	})
}

// Line returns the line as it stands now, from one statement, without taking the lock.
func (s *Queue) Line(ctx context.Context) (raids.Line, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	l, err := readLine(ctx, s.db, time.Time{})
	if err != nil {
		return raids.Line{}, err
	}
	return l.Line, nil
}
