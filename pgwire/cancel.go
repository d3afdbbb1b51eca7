package pgwire

import (
	"crypto/subtle"
	"encoding/binary"
)

// registerKey makes c reachable by CancelRequests carrying its key.
func (s *Server) registerKey(c *conn) {
	s.keysMu.Lock()
	s.keys[c.pid] = c
	s.keysMu.Unlock()
}

// forgetKey removes c's key; a CancelRequest arriving later finds nothing.
func (s *Server) forgetKey(c *conn) {
	s.keysMu.Lock()
	if s.keys[c.pid] == c {
		delete(s.keys, c.pid)
	}
	s.keysMu.Unlock()
}

// cancelRequest handles the body of a CancelRequest packet (code, process id,
// secret key). A matching live session gets Cancel; whatever happens, the
// requester gets no answer, as in PostgreSQL, so a wrong key reveals nothing.
func (s *Server) cancelRequest(body []byte) {
	if len(body) != 12 { // protocol 3.0 keys are 4 bytes
		s.log.Debug("malformed CancelRequest", "len", len(body))
		return
	}
	pid := binary.BigEndian.Uint32(body[4:])
	secret := body[8:12]
	s.keysMu.Lock()
	c := s.keys[pid]
	s.keysMu.Unlock()
	if c == nil {
		s.log.Debug("CancelRequest for unknown process", "pid", pid)
		return
	}
	var want [4]byte
	binary.BigEndian.PutUint32(want[:], c.secret)
	if subtle.ConstantTimeCompare(want[:], secret) != 1 {
		s.log.Debug("CancelRequest with wrong key", "pid", pid)
		return
	}
	c.mu.Lock()
	sess := c.sess
	c.mu.Unlock()
	if sess != nil {
		// Called outside c.mu: Cancel may take its time or block.
		sess.Cancel()
	}
}
