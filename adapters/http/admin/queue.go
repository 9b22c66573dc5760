package admin

import (
	"net/http"

	views "github.com/bossraid/bossraid/views/admin"
)

// queueRowsShown is how many waiting players the admin pages list; the rest are counted.
const queueRowsShown = 50

// queueNow is the raid queue as it stands, for the overview and the raid pages; nil without
// the queue. Only admins reach the pages that call it.
func (h *Admin) queueNow(r *http.Request) (*views.Queue, error) {
	if h.queue == nil {
		return nil, nil
	}
	l, err := h.queue.Line(r.Context())
	if err != nil {
		return nil, err
	}
	q := &views.Queue{Length: len(l.Waiting), TurnsTaken: l.TurnsTaken, TurnsLapsed: l.TurnsLapsed}
	for i, w := range l.Waiting[:min(len(l.Waiting), queueRowsShown)] {
		q.Waiting = append(q.Waiting, views.QueueRow{
			Place: i + 1, Nickname: w.Nickname, PlayerPath: views.PlayerPath(w.UserID), JoinedAt: w.JoinedAt,
		})
	}
	if res := l.Reservation; res != nil {
		q.Holder = &views.QueueRow{Place: 1, Nickname: res.Nickname, PlayerPath: views.PlayerPath(res.UserID)}
		q.Until = res.Until
	}
	return q, nil
}
