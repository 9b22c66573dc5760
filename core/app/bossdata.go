package app

import (
	"context"
	"fmt"

	"github.com/bossraid/bossraid/core/raids"
	"github.com/bossraid/bossraid/ports"
)

// ReloadBossData reads the boss raid data again from its source and shares it with every
// instance. Bad data is refused and the data in force stays.
func (a *App) ReloadBossData(ctx context.Context) (raids.BossData, error) {
	d, err := a.BossSource.LoadBossData(ctx)
	if err != nil {
		return a.BossData(), fmt.Errorf("reload boss data: %w", err)
	}
	a.boss.Store(&d)
	payload, err := d.MarshalJSON()
	if err == nil {
		a.Events.Publish(ctx, ports.Event{Kind: ports.EventBossData, Payload: payload})
	}
	a.Logger.Info("boss data reloaded", "limit", d.TimeLimit, "levels", len(d.Levels))
	return d, nil
}

// ApplyEvent takes in an event published by any instance: boss data reloaded elsewhere comes
// into force here. Other events need nothing of the use cases.
func (a *App) ApplyEvent(e ports.Event) {
	if e.Kind != ports.EventBossData {
		return
	}
	d, err := raids.ParseBossData(e.Payload)
	if err != nil {
		a.Logger.Warn("ignoring bad boss data from another instance", "err", err)
		return
	}
	a.boss.Store(&d)
}
