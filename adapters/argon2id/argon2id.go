// Package argon2id hashes passwords with Argon2id into PHC strings:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, both parts in unpadded standard base64.
package argon2id

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"golang.org/x/crypto/argon2"

	"github.com/bossraid/bossraid/ports"
)

// Params are the Argon2id cost settings used for new hashes.
type Params struct {
	Memory      uint32 // KiB
	Iterations  uint32
	Parallelism uint8
	SaltLength  uint32 // bytes
	KeyLength   uint32 // bytes
}

// OWASP returns the parameters OWASP recommends for Argon2id (m=19 MiB, t=2, p=1).
func OWASP() Params {
	return Params{Memory: 19 * 1024, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}
}

// Bounds on what a stored hash may ask for, so a corrupt or hostile row cannot make
// Verify allocate gigabytes or spin for minutes.
const (
	maxMemory     = 1 << 20 // KiB, 1 GiB
	maxIterations = 64
	minSaltLength = 8
	minKeyLength  = 16
	maxKeyLength  = 128
)

// ErrMalformedHash means a stored hash is not an Argon2id PHC string this package can check.
var ErrMalformedHash = errors.New("malformed argon2id hash")

// Hasher implements ports.PasswordHasher. Make one with New.
type Hasher struct {
	params Params
	// slots caps simultaneous hashes: each one holds Params.Memory, and a burst of sign-ins
	// must not multiply that without bound.
	slots chan struct{}
}

var _ ports.PasswordHasher = (*Hasher)(nil)

// New returns a Hasher that hashes with p; Verify follows the parameters stored in each hash,
// so p can change without invalidating older hashes.
func New(p Params) (*Hasher, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	return &Hasher{params: p, slots: make(chan struct{}, max(runtime.GOMAXPROCS(0), 2))}, nil
}

func (p Params) validate() error {
	switch {
	case p.Memory < 8*uint32(p.Parallelism) || p.Memory > maxMemory:
		return fmt.Errorf("argon2id: memory %d KiB out of range", p.Memory)
	case p.Iterations < 1 || p.Iterations > maxIterations:
		return fmt.Errorf("argon2id: iterations %d out of range", p.Iterations)
	case p.Parallelism < 1:
		return errors.New("argon2id: parallelism must be at least 1")
	case p.SaltLength < minSaltLength:
		return fmt.Errorf("argon2id: salt length %d shorter than %d", p.SaltLength, minSaltLength)
	case p.KeyLength < minKeyLength || p.KeyLength > maxKeyLength:
		return fmt.Errorf("argon2id: key length %d out of range", p.KeyLength)
	}
	return nil
}

// Hash returns the PHC string of password under a fresh random salt.
func (h *Hasher) Hash(password string) (string, error) {
	salt := make([]byte, h.params.SaltLength)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("argon2id salt: %w", err)
	}
	key := h.derive(password, salt, h.params)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version,
		h.params.Memory, h.params.Iterations, h.params.Parallelism,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches hash. Returns ErrMalformedHash when hash cannot be read.
func (h *Hasher) Verify(password, hash string) (bool, error) {
	p, salt, want, err := decode(hash)
	if err != nil {
		return false, err
	}
	got := h.derive(password, salt, p)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

func (h *Hasher) derive(password string, salt []byte, p Params) []byte {
	if h.slots != nil { // nil only in a Hasher not made by New
		h.slots <- struct{}{}
		defer func() { <-h.slots }()
	}
	return argon2.IDKey([]byte(password), salt, p.Iterations, p.Memory, p.Parallelism, p.KeyLength)
}

func decode(hash string) (Params, []byte, []byte, error) {
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return Params{}, nil, nil, fmt.Errorf("%w: not a $argon2id$ string", ErrMalformedHash)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || parts[2] != fmt.Sprintf("v=%d", version) {
		return Params{}, nil, nil, fmt.Errorf("%w: bad version field", ErrMalformedHash)
	}
	if version != argon2.Version {
		return Params{}, nil, nil, fmt.Errorf("%w: unsupported version %d", ErrMalformedHash, version)
	}
	var p Params
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Iterations, &p.Parallelism); err != nil ||
		parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Iterations, p.Parallelism) {
		return Params{}, nil, nil, fmt.Errorf("%w: bad parameter field", ErrMalformedHash)
	}
	salt, err := base64.RawStdEncoding.Strict().DecodeString(parts[4])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: bad salt", ErrMalformedHash)
	}
	key, err := base64.RawStdEncoding.Strict().DecodeString(parts[5])
	if err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: bad key", ErrMalformedHash)
	}
	p.SaltLength, p.KeyLength = uint32(len(salt)), uint32(len(key))
	if err := p.validate(); err != nil {
		return Params{}, nil, nil, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	return p, salt, key, nil
}
