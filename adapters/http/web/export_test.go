package web

// LiveWork is how many lobby panels this front door has rendered and how many players'
// standings it has read for its live streams, since it started.
func (web *Web) LiveWork() (renders, standingReads int64) {
	return web.live.renders.Load(), web.live.standingReads.Load()
}
