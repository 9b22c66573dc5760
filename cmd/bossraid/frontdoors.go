package main

import (
	httpserver "github.com/bossraid/bossraid/adapters/http"
	"github.com/bossraid/bossraid/core/app"
)

// buildFrontDoors adds the web pages beside the JSON API.
func buildFrontDoors(_ *deps, _ *app.App, _ <-chan struct{}) ([]httpserver.FrontDoor, error) {
	return nil, nil
}
