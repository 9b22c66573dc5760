package app

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// bossData is the boss raid data in force, shared by the use cases that read it.
type bossData struct {
	current atomic.Pointer[raids.BossData]
	source  ports.BossDataSource
	events  ports.EventPublisher
	log     *slog.Logger
}

func (b *bossData) load() raids.BossData { return *b.current.Load() }

// reload reads the data again from its source and shares it with every instance. Bad data is
// refused and the data in force stays.
func (b *bossData) reload(ctx context.Context) (raids.BossData, error) {
	d, err := b.source.LoadBossData(ctx)
	if err != nil {
		return b.load(), fmt.Errorf("reload boss data: %w", err)
	}
	b.current.Store(&d)
	payload, err := d.MarshalJSON()
	if err == nil {
		b.events.Publish(ctx, ports.Event{Kind: ports.EventBossData, Payload: payload})
	}
	b.log.Info("boss data reloaded", "limit", d.TimeLimit, "levels", len(d.Levels))
	return d, nil
}

// BossData returns the boss raid data in force.
func (a *Raids) BossData() raids.BossData { return a.boss.load() }

// ReloadBossData reads the boss raid data again from its source and shares it with every
// instance. Bad data is refused and the data in force stays.
func (a *Raids) ReloadBossData(ctx context.Context) (raids.BossData, error) {
	return a.boss.reload(ctx)
}

// ApplyEvent takes in an event published by any instance: boss data reloaded elsewhere comes
// into force here. Other events need nothing of the use cases.
func (a *Raids) ApplyEvent(e ports.Event) {
	if e.Kind != ports.EventBossData {
		return
	}
	d, err := raids.ParseBossData(e.Payload)
	if err != nil {
		a.boss.log.Warn("ignoring bad boss data from another instance", "err", err)
		return
	}
	a.boss.current.Store(&d)
}
