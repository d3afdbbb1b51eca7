package server

import "errors"

// Crash stops the node abruptly, for tests and fault drills: Raft stops
// first and without a leadership transfer (peers see the leader vanish, as
// after kill -9), then every PostgreSQL and HTTP connection is closed at
// once, without the FATAL message a graceful Shutdown sends, and the
// database closes. Sessions waiting for a write get an error; nothing is
// acknowledged after Raft stopped. The data dir can be opened again. Unlike
// a killed process, SQLite and the Raft log close cleanly, so torn writes
// are the end-to-end tests' business. Idempotent together with Shutdown:
// whichever runs first decides, later calls return its result.
func (s *Server) Crash() error {
	s.shutdownOnce.Do(func() {
		s.closing.Store(true)
		s.bgCancel()
		if s.eng != nil {
			s.eng.StopApplying()
		}
		// closeAll reports the result: stopRaft returns this first call's.
		_ = s.crashRaft()
		var errs []error
		if s.pg != nil {
			errs = append(errs, ignoreClosed(s.pg.Close()))
		}
		if s.web != nil {
			errs = append(errs, ignoreClosed(s.web.Close()))
		}
		s.wg.Wait()
		errs = append(errs, s.closeAll())
		s.shutdownErr = errors.Join(errs...)
	})
	return s.shutdownErr
}
