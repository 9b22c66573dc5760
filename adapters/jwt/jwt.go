// Package jwt signs and verifies the bearer tokens as HS256 JSON Web Tokens, and derives
// every key the service needs from SECRET_KEY.
package jwt

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/bossraid/bossraid/ports"
)

// TokensPurpose is the DeriveKey purpose of the token signing key.
const TokensPurpose = "bossraid tokens v1"

// MinKeyLength is the shortest signing key accepted: HS256 wants at least the hash size.
const MinKeyLength = sha256.Size

// maxTokenLength bounds what Verify will parse; ours are about 300 bytes.
const maxTokenLength = 4096

// DeriveKey returns a 32-byte key for purpose, derived from secret with HKDF-SHA256. Every
// key made from SECRET_KEY comes from here, so no two uses ever share a key.
func DeriveKey(secret []byte, purpose string) []byte {
	key, err := hkdf.Key(sha256.New, secret, nil, purpose, sha256.Size)
	if err != nil {
		panic("hkdf: " + err.Error()) // only for lengths above 255 hashes
	}
	return key
}

// Tokens implements ports.Tokens.
type Tokens struct {
	key    []byte
	parser *gojwt.Parser
}

var _ ports.Tokens = (*Tokens)(nil)

// New returns Tokens signing with key (at least MinKeyLength bytes, e.g. from DeriveKey).
func New(key []byte) (*Tokens, error) {
	if len(key) < MinKeyLength {
		return nil, fmt.Errorf("jwt: key is %d bytes, want at least %d", len(key), MinKeyLength)
	}
	return &Tokens{
		key: append([]byte(nil), key...),
		parser: gojwt.NewParser(
			gojwt.WithValidMethods([]string{gojwt.SigningMethodHS256.Alg()}),
			gojwt.WithStrictDecoding(),
			// Expiry is judged by the caller against its clock; claims are checked below.
			gojwt.WithoutClaimsValidation(),
		),
	}, nil
}

type claims struct {
	Kind    ports.TokenKind `json:"typ"`
	Version *int64          `json:"ver"`
	gojwt.RegisteredClaims
}

// Sign returns the signed token for c. Times are kept to the second.
func (t *Tokens) Sign(c ports.TokenClaims) (string, error) {
	switch {
	case c.Kind != ports.TokenAccess && c.Kind != ports.TokenRefresh:
		return "", fmt.Errorf("jwt: unknown token kind %q", c.Kind)
	case c.UserID <= 0:
		return "", fmt.Errorf("jwt: user id %d is not positive", c.UserID)
	case c.ID == "":
		return "", errors.New("jwt: token id is empty")
	case c.Version < 0:
		return "", fmt.Errorf("jwt: token version %d is negative", c.Version)
	case c.IssuedAt.IsZero() || c.ExpiresAt.IsZero():
		return "", errors.New("jwt: issue and expiry times are required")
	}
	version := c.Version
	tok := gojwt.NewWithClaims(gojwt.SigningMethodHS256, claims{
		Kind:    c.Kind,
		Version: &version,
		RegisteredClaims: gojwt.RegisteredClaims{
			Subject:   strconv.FormatInt(c.UserID, 10),
			ID:        c.ID,
			IssuedAt:  gojwt.NewNumericDate(c.IssuedAt),
			ExpiresAt: gojwt.NewNumericDate(c.ExpiresAt),
		},
	})
	s, err := tok.SignedString(t.key)
	if err != nil {
		return "", fmt.Errorf("jwt: sign: %w", err)
	}
	return s, nil
}

// Verify checks the token's signature, algorithm, fields and kind, but not its expiry.
// Every failure wraps ports.ErrInvalidToken.
func (t *Tokens) Verify(token string, kind ports.TokenKind) (ports.TokenClaims, error) {
	if token == "" || len(token) > maxTokenLength {
		return ports.TokenClaims{}, fmt.Errorf("%w: empty or too long", ports.ErrInvalidToken)
	}
	var c claims
	if _, err := t.parser.ParseWithClaims(token, &c, func(*gojwt.Token) (any, error) {
		return t.key, nil
	}); err != nil {
		return ports.TokenClaims{}, fmt.Errorf("%w: %v", ports.ErrInvalidToken, err)
	}
	id, err := strconv.ParseInt(c.Subject, 10, 64)
	switch {
	case err != nil || id <= 0 || strconv.FormatInt(id, 10) != c.Subject:
		return ports.TokenClaims{}, fmt.Errorf("%w: bad subject", ports.ErrInvalidToken)
	case c.Kind != kind:
		return ports.TokenClaims{}, fmt.Errorf("%w: %q token where %q was expected", ports.ErrInvalidToken, c.Kind, kind)
	case c.ID == "":
		return ports.TokenClaims{}, fmt.Errorf("%w: no token id", ports.ErrInvalidToken)
	case c.Version == nil || *c.Version < 0:
		return ports.TokenClaims{}, fmt.Errorf("%w: bad token version", ports.ErrInvalidToken)
	case c.IssuedAt == nil || c.ExpiresAt == nil:
		return ports.TokenClaims{}, fmt.Errorf("%w: no issue or expiry time", ports.ErrInvalidToken)
	}
	return ports.TokenClaims{
		Kind:      c.Kind,
		UserID:    id,
		Version:   *c.Version,
		ID:        c.ID,
		IssuedAt:  c.IssuedAt.UTC(),
		ExpiresAt: c.ExpiresAt.UTC(),
	}, nil
}
