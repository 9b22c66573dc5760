package memory

import (
	"testing"

	"github.com/bossraid/bossraid/ports"
	"github.com/bossraid/bossraid/ports/portstest"
)

func TestEventsContract(t *testing.T) {
	portstest.RunEvents(t, func(*testing.T) (ports.Events, ports.Events) {
		ev := NewEvents()
		return ev, ev
	})
}
