package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/bossraid/bossraid/adapters/postgres"
	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/core/users"
)

// PlayerRecord answers in one statement what UserByNickname then History answer.
func TestPlayerRecordIsTheUserThenTheHistory(t *testing.T) {
	emptyDatabase(t)
	ids := newPlayers(t, 3)
	store, people := postgres.NewRaids(testDB), postgres.NewUsers(testDB)
	ctx := context.Background()
	level := raids.DefaultBossData().Levels[1]
	for i := range 13 { // player0: 13 raids, some cleared; player1: one in progress; player2: none
		r, err := store.EnterRaid(ctx, ids[0], level, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if i%3 != 0 {
			if _, _, err := store.UpdateRaid(ctx, r.ID, endBy(ids[0])); err != nil {
				t.Fatal(err)
			}
		} else if _, err := testDB.Exec(`UPDATE raids SET status = 'fail', end_time = deadline WHERE id = $1`, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.EnterRaid(ctx, ids[1], level, time.Minute); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		u, err := people.UserByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, page := range [][2]int{{0, 10}, {0, 100}, {3, 4}, {10, 10}, {12, 1}, {13, 10}, {50, 10}, {0, 0}} {
			wantUser, err := people.UserByNickname(ctx, u.Nickname)
			if err != nil {
				t.Fatal(err)
			}
			wantPage, wantCount, err := store.History(ctx, id, page[0], page[1])
			if err != nil {
				t.Fatal(err)
			}
			gotUser, gotPage, gotCount, err := store.PlayerRecord(ctx, u.Nickname, page[0], page[1])
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(gotUser) != fmt.Sprint(wantUser) || gotCount != wantCount || fmt.Sprint(gotPage) != fmt.Sprint(wantPage) {
				t.Fatalf("player %d, offset %d limit %d:\n got  %+v %d %+v\n want %+v %d %+v", id, page[0], page[1], gotUser, gotCount, gotPage, wantUser, wantCount, wantPage)
			}
		}
	}
	if _, _, _, err := store.PlayerRecord(ctx, "nobody-here", 0, 10); !errors.Is(err, users.ErrNotFound) {
		t.Fatalf("unknown nickname: %v", err)
	}
}
