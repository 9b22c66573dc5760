package postgres

import "time"

// DBError lets the external tests check the one place driver errors are mapped.
var DBError = dbError

// PingEvery shortens how often the change feed pings, so a test can press on it.
func (f *ChangeFeed) PingEvery(d time.Duration) { f.pingEvery = d }
