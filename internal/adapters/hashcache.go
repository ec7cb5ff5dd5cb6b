package adapters

import (
	"os"
	"sync"
	"time"
)

// HashCache remembers file hashes for a long-lived process, keyed by path,
// size and modification time: a file replaced in place is hashed again.
type HashCache struct {
	Hash func(path string) (string, error)
	mu   sync.Mutex
	m    map[string]cached
}

type cached struct {
	size int64
	mod  time.Time
	hash string
}

// Get returns the file's hash, computing it when the file is new or
// changed.
func (c *HashCache) Get(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	e, ok := c.m[path]
	c.mu.Unlock()
	if ok && e.size == st.Size() && e.mod.Equal(st.ModTime()) {
		return e.hash, nil
	}
	h, err := c.Hash(path)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cached{}
	}
	c.m[path] = cached{st.Size(), st.ModTime(), h}
	c.mu.Unlock()
	return h, nil
}
