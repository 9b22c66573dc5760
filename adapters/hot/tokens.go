package hot

import (
	"sync"

	"github.com/bossraid/bossraid/ports"
)

// maxCachedTokens bounds the verified-token cache (a few hundred bytes each).
const maxCachedTokens = 20_000

// Tokens wraps a token signer and remembers access tokens whose signature already checked out,
// so a request costs a map lookup instead of a JWT parse. Only the signature check is saved:
// expiry and the player's token version are the caller's to judge on every request.
type Tokens struct {
	ports.Tokens

	mu     sync.Mutex
	claims map[string]ports.TokenClaims
}

var _ ports.Tokens = (*Tokens)(nil)

// NewTokens wraps next.
func NewTokens(next ports.Tokens) *Tokens { return &Tokens{Tokens: next} }

// Verify answers access tokens seen before from memory.
func (t *Tokens) Verify(token string, kind ports.TokenKind) (ports.TokenClaims, error) {
	if kind != ports.TokenAccess {
		return t.Tokens.Verify(token, kind)
	}
	t.mu.Lock()
	cl, ok := t.claims[token]
	t.mu.Unlock()
	if ok {
		return cl, nil
	}
	cl, err := t.Tokens.Verify(token, kind)
	if err != nil {
		return cl, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.claims == nil || len(t.claims) >= maxCachedTokens {
		t.claims = map[string]ports.TokenClaims{} // start over rather than track ages
	}
	t.claims[token] = cl
	return cl, nil
}
