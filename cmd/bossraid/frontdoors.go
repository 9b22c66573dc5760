package main

import (
	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/adapters/http/web"
	"github.com/bossraid/bossraid/core/app"
)

// buildFrontDoors adds the web pages beside the JSON API; both share one session store.
func buildFrontDoors(d *deps, a *app.App, stopStreams <-chan struct{}) ([]httpserver.FrontDoor, error) {
	sessions := session.New(d.db, d.cfg.SessionLifetime, d.cfg.CookieSecure)
	pages, err := web.New(web.Config{App: a, Sessions: sessions, Logger: d.log, Stop: stopStreams})
	if err != nil {
		return nil, err
	}
	return []httpserver.FrontDoor{pages}, nil
}
