package server

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pgraft/pgraft/pgwire"
	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// session is one client connection's SQL state. pgwire calls it from the
// connection's goroutine; Cancel and the idle-transaction timer come from
// others, which is what mu and cancelMu are for.
type session struct {
	srv     *Server
	log     *slog.Logger
	user    string // current_user: the role privileges are checked against (SET ROLE changes it)
	login   string // the role that logged in (session_user)
	db      string
	started time.Time // the session began (log_disconnections' session time)
	set     *settings

	mu      sync.Mutex // guards tx against the idle timer
	tx      txn
	cursors map[string]*cursor // DECLARE … CURSOR, by name
	// speculative is the local writer's transaction (txwriter.go), for
	// Parse, which runs without mu: the transaction's own DDL is visible
	// only on its connection, and statements translate against it.
	speculative atomic.Pointer[sqlengine.WriteTx]
	lastIndex   uint64 // commit index of this session's last write: read-your-writes
	// readIndexReq is the client request (pgwire.RequestID) readIndexAt,
	// a linearizable read index, was obtained in (requestReadIndex).
	readIndexReq, readIndexAt uint64
	fwd                       forwardLink // writes forwarded to the leader (forward.go)
	seqs                      seqSession  // currval and lastval (sequences.go)
	remote                    bool        // a leader-side session of a follower's (forward_leader.go): never forwards
	counted                   bool        // a client session, counted against MaxConnections until Close
	pid                       uint32      // BackendKeyData process id: pg_backend_pid()
	act                       *activity   // pg_stat_activity's row of a client session, else nil (activity.go)

	clock sessionClock // transaction and statement start (clock.go)

	cancelMu sync.Mutex
	cancel   context.CancelCauseFunc // of the statement running now, if any
}

var _ pgwire.Session = (*session)(nil)

// NewSession implements pgwire.Handler.
func (s *Server) NewSession(ctx context.Context, info pgwire.StartupInfo) (pgwire.Session, error) {
	if s.closing.Load() {
		return nil, pgerror.New(pgerror.CannotConnectNow, "the database system is shutting down")
	}
	if err := s.admitSession(info.User); err != nil {
		s.metrics.connections.WithLabelValues(pgerror.Code(err)).Inc()
		return nil, err
	}
	s.metrics.connections.WithLabelValues("accepted").Inc()
	sess := &session{
		srv:     s,
		log:     s.log.With(logKeyConn, info.ProcessID, logKeyRemote, addrString(info.RemoteAddr)),
		user:    info.User,
		login:   info.User,
		db:      info.Database,
		set:     newSettings(),
		counted: true,
	}
	sess.set.values["session_authorization"] = info.User
	sess.set.values["is_superuser"] = onOff(s.isSuperuser(info.User))
	sess.set.values["max_connections"] = strconv.Itoa(s.cfg.MaxConnections)
	if err := sess.applyStartupParams(info.Params); err != nil {
		s.sessions.Add(-1)
		return nil, err
	}
	sess.pid = info.ProcessID
	appName, _ := sess.set.get("application_name")
	sess.act = newActivity(info.ProcessID, info.User, info.Database, appName, info.RemoteAddr)
	s.activity.add(sess.pid, sess.act)
	sess.started = time.Now()
	if s.cfg.LogConnections {
		sess.log.Info("connection authorized", "user", info.User, "database", info.Database,
			"application_name", sess.set.values["application_name"])
	}
	return sess, nil
}

// errTooManyClients is PostgreSQL's answer beyond max_connections.
var errTooManyClients = &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.TooManyConnections,
	Message: "sorry, too many clients already"}

// errReservedSlots is PostgreSQL's answer to a non-superuser when only the
// superusers' reserved slots are left.
var errReservedSlots = &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.TooManyConnections,
	Message: "remaining connection slots are reserved for non-replication superuser connections"}

// reservedSlots is how many of MaxConnections only superusers may take,
// PostgreSQL's superuser_reserved_connections (3), fewer when the limit is
// tiny.
func (s *Server) reservedSlots() int64 {
	return int64(min(3, s.cfg.MaxConnections-1))
}

// admitSession counts a new client session unless MaxConnections are open;
// the last reservedSlots are for superusers, as in PostgreSQL. A
// CancelRequest needs no session, so it still gets through at the limit.
func (s *Server) admitSession(user string) error {
	superuser := -1 // not looked up yet: only near the limit
	for {
		n := s.sessions.Load()
		if n >= int64(s.cfg.MaxConnections) {
			return errTooManyClients
		}
		if n >= int64(s.cfg.MaxConnections)-s.reservedSlots() && superuser < 0 {
			superuser = 0
			if s.isSuperuser(user) {
				superuser = 1
			}
		}
		if superuser == 0 && n >= int64(s.cfg.MaxConnections)-s.reservedSlots() {
			return errReservedSlots
		}
		if s.sessions.CompareAndSwap(n, n+1) {
			return nil
		}
	}
}

// applyStartupParams applies startup parameters and "-c name=value" options,
// which PostgreSQL treats as SET.
func (s *session) applyStartupParams(params map[string]string) error {
	for k, v := range params {
		switch strings.ToLower(k) {
		case "user", "database", "replication", "options":
			continue
		}
		if err := s.set.set(k, v, false); err != nil && pgerror.Code(err) != pgerror.UndefinedObject {
			return &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.Code(err), Message: err.Error()}
		}
	}
	for _, opt := range splitOptions(params["options"]) {
		name, value, ok := strings.Cut(opt, "=")
		if !ok {
			continue
		}
		if err := s.set.set(strings.ReplaceAll(name, "-", "_"), value, false); err != nil {
			return &pgerror.Error{Severity: pgerror.SeverityFatal, Code: pgerror.Code(err), Message: err.Error()}
		}
	}
	return nil
}

// splitOptions splits the "options" startup parameter: "-c a=b -c c=d" or
// "--a=b", honouring backslash-escaped spaces.
func splitOptions(s string) []string {
	var out []string
	var cur strings.Builder
	flush := func() {
		w := cur.String()
		cur.Reset()
		switch {
		case w == "" || w == "-c":
		case strings.HasPrefix(w, "--"):
			out = append(out, w[2:])
		case strings.HasPrefix(w, "-c"):
			out = append(out, w[2:])
		default:
			out = append(out, w)
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case c == ' ' || c == '\t':
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}

// ParameterStatus implements pgwire.Session.
func (s *session) ParameterStatus() map[string]string {
	m := make(map[string]string, 16)
	for _, g := range gucs {
		if g.reported {
			m[g.name], _ = s.set.get(g.name)
		}
	}
	standby := !s.srv.isLeader()
	m["in_hot_standby"] = onOff(standby)
	if standby {
		m["default_transaction_read_only"] = "on"
	}
	return m
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// TxStatus implements pgwire.Session.
func (s *session) TxStatus() byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.tx.implicit && s.tx.state != txIdle:
		return 'I' // an implicit transaction never outlives its sync point
	}
	switch s.tx.state {
	case txBlock:
		return 'T'
	case txFailed:
		return 'E'
	}
	return 'I'
}

// Parse implements pgwire.Session. It is part of the statement for
// statement_timeout and CancelRequest: what it waits for (the schema, a read
// connection to describe on, a new leader) ends with 57014 as in PostgreSQL.
func (s *session) Parse(ctx context.Context, sql string, paramOIDs []uint32) ([]pgwire.Statement, error) {
	ctx, stop := s.statementContext(ctx)
	defer stop()
	defer s.srv.metrics.observe(s.srv.metrics.parse, time.Now())
	stmts, err := s.parse(ctx, sql, paramOIDs)
	if len(stmts) > 1 { // only a simple query has several
		for _, st := range stmts {
			st.(*statement).oneMessage = true
		}
	}
	return stmts, contextError(ctx, err)
}

func (s *session) parse(ctx context.Context, sql string, paramOIDs []uint32) ([]pgwire.Statement, error) {
	stmts, err := s.parseOnce(ctx, sql, paramOIDs)
	if paramOIDs != nil || err == nil && !changesSchemaBeforeLast(stmts) {
		return stmts, err
	}
	// A query string whose schema change comes before other statements:
	// as PostgreSQL analyses each statement only when the ones before it
	// have run, those after the change translate when they run
	// (statement.deferred), against the schema it left.
	texts, serr := translate.Split(sql)
	if serr != nil || len(texts) < 2 {
		return stmts, err
	}
	out := make([]pgwire.Statement, 0, len(texts))
	changed := false
	for _, text := range texts {
		if changed {
			out = append(out, &statement{s: s, deferred: text})
			continue
		}
		one, err := s.parseOnce(ctx, text, nil)
		if err != nil {
			return nil, err
		}
		for _, st := range one {
			changed = changed || st.(*statement).st.Kind == translate.KindDDL
		}
		out = append(out, one...)
	}
	return out, nil
}

// changesSchemaBeforeLast reports whether a statement other than the last
// changes the schema.
func changesSchemaBeforeLast(stmts []pgwire.Statement) bool {
	for _, st := range stmts[:max(len(stmts)-1, 0)] {
		if st.(*statement).st.Kind == translate.KindDDL {
			return true
		}
	}
	return false
}

// parseOnce translates a query string against the schema as it is now.
func (s *session) parseOnce(ctx context.Context, sql string, paramOIDs []uint32) ([]pgwire.Statement, error) {
	schema, private, err := s.parseSchema(ctx)
	if err != nil {
		return nil, err
	}
	stmts, err := s.translate(ctx, sql, paramOIDs, schema, private)
	if !private && schemaMatters(stmts, err) && s.awaitSchema(ctx) { // consistency.go
		// The wait may have moved the schema: translate again if it did.
		if fresh, _, ferr := s.parseSchema(ctx); ferr == nil && fresh != schema {
			stmts, err = s.translate(ctx, sql, paramOIDs, fresh, false)
		}
	}
	if err != nil && s.inForwardedDDLBlock() {
		// The block's own tables live in the leader-side block only: what
		// this node cannot translate, the leader may. Translated without a
		// schema, the statement goes there as text (parseForwarded).
		if lenient, lerr := translate.SQL(sql, nil, translate.Options{ParamOIDs: paramOIDs, Setting: s.setting}); lerr == nil {
			stmts, err, private = lenient, nil, true
		}
	}
	if err != nil {
		return nil, err
	}
	if len(stmts) == 1 {
		if p, ok, err := s.parseForwarded(ctx, stmts[0], sql, paramOIDs); ok {
			if err != nil {
				return nil, err
			}
			return []pgwire.Statement{p}, nil
		}
		if err := s.checkParse(ctx, stmts[0]); err != nil {
			return nil, err
		}
	}
	out := make([]pgwire.Statement, len(stmts))
	for i, st := range stmts {
		out[i] = &statement{s: s, st: st, private: private}
	}
	return out, nil
}

// translate translates a query string through the node's translation cache
// (translate.Cache), or, against a transaction's private schema, which no
// other session sees, without it.
func (s *session) translate(ctx context.Context, sql string, paramOIDs []uint32, schema *sqlengine.SchemaSnapshot, private bool) ([]*translate.Stmt, error) {
	opts := translate.Options{ParamOIDs: paramOIDs, Setting: s.setting}
	if private {
		return translate.SQL(sql, schema, opts)
	}
	return s.srv.translations.SQL(sql, schema, opts)
}

// parseSchema is the schema statements translate against: the session's
// transaction's own when its DDL changed it (private: not for the shared
// cache), else the node's.
func (s *session) parseSchema(ctx context.Context) (schema *sqlengine.SchemaSnapshot, private bool, err error) {
	if wt := s.speculative.Load(); wt != nil {
		if ts, ok, err := wt.Schema(ctx); err == nil && ok {
			return ts, true, nil
		}
	}
	schema, err = s.srv.eng.Schema(ctx)
	return schema, false, err
}

// checkParse refuses at Parse what PostgreSQL refuses there: any statement
// but a transaction exit in a failed transaction block (25P02), and a
// statement on relations or columns that do not exist (42P01, 42703). A query
// string of several statements is checked as it runs instead: an earlier
// statement may create what a later one uses.
func (s *session) checkParse(ctx context.Context, st *translate.Stmt) error {
	s.mu.Lock()
	failed, speculative := s.tx.state == txFailed, s.tx.w != nil
	if failed && !isTxExit(st) {
		err := s.admitLocked(st) // the idle timeout's 25P03 first, then 25P02
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	if speculative { // the read connections cannot see the transaction's own DDL
		return nil
	}
	if st.Kind.IsWrite() && !s.srv.isLeader() {
		return nil // it fails as a write on a follower, whatever this node's schema says
	}
	_, err := s.describe(ctx, st, describeOpts{})
	return err
}

func isTxExit(st *translate.Stmt) bool {
	switch st.Kind {
	case translate.KindRollback, translate.KindCommit, translate.KindRollbackTo:
		return true
	}
	return false
}

// setting answers the translator's questions about the session.
func (s *session) setting(name string) (string, bool) {
	switch strings.ToLower(name) {
	case "database":
		return s.db, true
	case "session_user": // SET ROLE leaves it; SET SESSION AUTHORIZATION moves it
		if r, _ := s.set.get("role"); r != "none" && r != "" {
			return s.login, true
		}
		return s.set.get("session_authorization")
	case "pid":
		return strconv.FormatUint(uint64(s.pid), 10), true
	case "in_hot_standby", "transaction_read_only", "default_transaction_read_only", "transaction_isolation":
		return s.showValue(name) // current_setting() and SHOW agree
	}
	return s.set.get(name)
}

// Cancel implements pgwire.Session.
func (s *session) Cancel() {
	s.cancelMu.Lock()
	defer s.cancelMu.Unlock()
	if s.cancel != nil {
		s.cancel(errCanceledByUser)
	}
}

// Close implements pgwire.Session: an open transaction is rolled back.
func (s *session) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollbackLocked()
	s.closeForwardLink()
	s.closeCursors(true)
	s.srv.advisory.unlockAll(s)
	if s.counted {
		s.counted = false
		s.srv.sessions.Add(-1)
		if s.srv.cfg.LogConnections {
			s.log.Info("disconnection", "user", s.user, "session_time", time.Since(s.started).Round(time.Millisecond))
		}
	}
	if s.act != nil {
		s.srv.activity.remove(s.pid, s.act)
	}
}

var (
	errCanceledByUser = pgerror.New(pgerror.QueryCanceled, "canceling statement due to user request")
	errStmtTimeout    = pgerror.New(pgerror.QueryCanceled, "canceling statement due to statement timeout")
)

// statementContext derives the context of one statement: statement_timeout
// and CancelRequest end it. The returned stop must be called.
func (s *session) statementContext(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	stopTimer := func() bool { return false }
	if d := s.set.duration("statement_timeout"); d > 0 {
		stopTimer = time.AfterFunc(d, func() { cancel(errStmtTimeout) }).Stop
	}
	s.cancelMu.Lock()
	outer := s.cancel // a statement context made inside another's
	s.cancel = cancel
	s.cancelMu.Unlock()
	return ctx, func() {
		stopTimer()
		s.cancelMu.Lock()
		s.cancel = outer
		s.cancelMu.Unlock()
		cancel(nil)
	}
}

// contextError turns an error that happened because ctx ended into 57014
// with the reason; other errors pass through.
func contextError(ctx context.Context, err error) error {
	if err == nil || ctx.Err() == nil {
		return err
	}
	if cause := context.Cause(ctx); pgerror.As(cause) != nil {
		return cause
	}
	return errCanceledByUser
}

// execContext is the ExecContext of a new entry: the transaction's start
// as the leader clamps it (entryTime, clock.go) and a fresh seed.
func (s *session) execContext() sqlengine.ExecContext {
	tz, _ := s.set.get("timezone")
	return sqlengine.ExecContext{TimeMicros: s.entryTime(), Seed: rand.Uint64(), User: s.user, TimeZone: tz}
}

func addrString(a interface{ String() string }) string {
	if a == nil {
		return ""
	}
	return a.String()
}

func commandTag(st *translate.Stmt, n int64) string {
	switch st.Kind {
	case translate.KindSelect:
		return "SELECT " + strconv.FormatInt(n, 10)
	case translate.KindFetch:
		return st.Tag + " " + strconv.FormatInt(n, 10)
	case translate.KindInsert:
		return "INSERT 0 " + strconv.FormatInt(n, 10)
	case translate.KindUpdate, translate.KindDelete:
		if st.Tag == "TRUNCATE TABLE" {
			return st.Tag
		}
		return st.Tag + " " + strconv.FormatInt(n, 10)
	}
	return st.Tag
}
