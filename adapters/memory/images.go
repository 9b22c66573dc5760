package memory

import (
	"context"

	"github.com/bossraid/bossraid/core/users"
	"github.com/bossraid/bossraid/ports"
)

var _ ports.ImageStore = (*Store)(nil)

// ProfileImage returns a copy of the image under key, or ports.ErrImageNotFound.
func (s *Store) ProfileImage(_ context.Context, key string) (users.ProfileImage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	img, ok := s.images[key]
	if !ok {
		return users.ProfileImage{}, ports.ErrImageNotFound
	}
	img.Data = append([]byte(nil), img.Data...)
	return img, nil
}
