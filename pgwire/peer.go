package pgwire

import (
	"time"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// peer.go notices a client that went away while its connection is busy.
// The connection's goroutine reads the socket only between statements, so a
// client that disconnects during a long one would otherwise go unnoticed
// until the statement ends, if it ever does. PostgreSQL has the same gap and
// closes it with client_connection_check_interval; pgraft checks by default.

// defaultClientCheckInterval is Server.ClientCheckInterval's zero value.
const defaultClientCheckInterval = time.Second

// errClientGone is the cause that ends a connection's context when its
// client is found gone: the statement running is cancelled (Session methods
// see their ctx end) and the connection ends after it, as PostgreSQL's
// "connection to client lost".
var errClientGone = &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.ConnectionFailure,
	Message: "connection to client lost"}

func (s *Server) clientCheckInterval() time.Duration {
	if s.ClientCheckInterval == 0 {
		return defaultClientCheckInterval
	}
	return s.ClientCheckInterval
}

// armCheckLocked starts the periodic check of a connection that became busy,
// unless it runs already. c.mu is held.
func (c *conn) armCheckLocked() {
	d := c.srv.clientCheckInterval()
	if d < 0 || c.checkArmed || c.released {
		return
	}
	c.checkArmed = true
	if c.check == nil {
		c.check = time.AfterFunc(d, c.checkPeer)
		return
	}
	c.check.Reset(d)
}

// checkPeer runs on the check timer: while the connection is busy it asks
// the socket, without reading it, whether the client hung up, and cancels
// the connection's context if so; otherwise it checks again later.
func (c *conn) checkPeer() {
	c.mu.Lock()
	if c.idle || c.released {
		c.checkArmed = false // an idle connection notices EOF by reading
		c.mu.Unlock()
		return
	}
	nc := c.nc
	c.mu.Unlock()
	gone := peerGone(nc)
	if gone {
		c.log.Info("client went away during a statement; canceling it")
		c.cancelCtx(errClientGone)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if gone || c.idle || c.released {
		c.checkArmed = false
		return
	}
	c.check.Reset(c.srv.clientCheckInterval())
}

// stopCheckLocked stops the check for good (the connection is released).
// c.mu is held. A check already running finishes without re-arming.
func (c *conn) stopCheckLocked() {
	c.released = true
	if c.check != nil {
		c.check.Stop()
	}
}
