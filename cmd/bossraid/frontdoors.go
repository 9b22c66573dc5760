package main

import (
	httpserver "github.com/bossraid/bossraid/adapters/http"
	adminpages "github.com/bossraid/bossraid/adapters/http/admin"
	"github.com/bossraid/bossraid/adapters/http/session"
	"github.com/bossraid/bossraid/adapters/http/web"
	"github.com/bossraid/bossraid/internal/wiring"
)

// buildFrontDoors adds the web pages and the admin pages beside the JSON API; they share one
// session store.
func buildFrontDoors(d *deps, g *wiring.Graph, stopStreams <-chan struct{}) ([]httpserver.FrontDoor, error) {
	a := g.App
	sessions := session.New(d.db, d.cfg.SessionLifetime, d.cfg.CookieSecure)
	pages, err := web.New(web.Config{
		App: a, Events: g.Events, Queue: g.Queue, Sessions: sessions, Logger: d.log, Stop: stopStreams, MaxStreams: d.cfg.LiveStreamsMax,
	})
	if err != nil {
		return nil, err
	}
	adminPages, err := adminpages.New(adminpages.Config{App: a, Queue: g.Queue, Sessions: sessions, Logger: d.log})
	if err != nil {
		return nil, err
	}
	return []httpserver.FrontDoor{pages, adminPages}, nil
}
