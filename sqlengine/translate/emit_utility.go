package translate

import (
	"math"
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/pgraft/pgraft/pgvalue"
	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// Utility statements: transactions, SET/RESET/SHOW, DISCARD and friends.
// They carry no SQL; the session acts on Kind and the detail fields.

// utilityStatement dispatches utility statements; nil when n is not one.
func (t *translator) utilityStatement(n *pg.Node) *Stmt {
	switch v := n.GetNode().(type) {
	case *pg.Node_LockStmt:
		return t.lockStatement(v.LockStmt)
	case *pg.Node_TransactionStmt:
		return t.transaction(v.TransactionStmt)
	case *pg.Node_VariableSetStmt:
		return t.setStatement(v.VariableSetStmt)
	case *pg.Node_VariableShowStmt:
		return &Stmt{Kind: KindShow, Tag: "SHOW", Show: strings.ToLower(v.VariableShowStmt.Name)}
	case *pg.Node_DiscardStmt:
		return discardStmt(v.DiscardStmt)
	case *pg.Node_DeallocateStmt:
		tag := "DEALLOCATE"
		if v.DeallocateStmt.Isall {
			tag = "DEALLOCATE ALL"
		}
		return &Stmt{Kind: KindDiscard, Tag: tag}
	case *pg.Node_UnlistenStmt:
		return &Stmt{Kind: KindNoop, Tag: "UNLISTEN"}
	case *pg.Node_DeclareCursorStmt:
		return t.declareCursor(v.DeclareCursorStmt)
	case *pg.Node_FetchStmt:
		return t.fetch(v.FetchStmt)
	case *pg.Node_ClosePortalStmt:
		name := v.ClosePortalStmt.Portalname
		return &Stmt{Kind: KindClose, Tag: "CLOSE CURSOR", Cursor: &CursorStmt{Name: name, All: name == ""}}
	}
	return nil
}

// Cursor options of DeclareCursorStmt (PostgreSQL's parsenodes.h).
const (
	cursorOptBinary = 0x0001
	cursorOptScroll = 0x0002
	cursorOptHold   = 0x0020
)

// declareCursor translates DECLARE name CURSOR [WITH HOLD] FOR query.
func (t *translator) declareCursor(d *pg.DeclareCursorStmt) *Stmt {
	if d.Options&cursorOptScroll != 0 {
		t.unsupported("SCROLL cursors")
	}
	if d.Options&cursorOptBinary != 0 {
		t.unsupported("BINARY cursors")
	}
	q := t.statement(d.Query)
	if q.Kind != KindSelect {
		t.unsupported("cursors over statements other than SELECT")
	}
	return &Stmt{Kind: KindDeclare, Tag: "DECLARE CURSOR", Catalog: q.Catalog,
		Cursor: &CursorStmt{Name: d.Portalname, Query: q, Hold: d.Options&cursorOptHold != 0}}
}

// fetchAll is PostgreSQL's FETCH_ALL (LONG_MAX).
const fetchAll = 1<<63 - 1

// fetch translates FETCH / MOVE; only forward movement is supported.
func (t *translator) fetch(f *pg.FetchStmt) *Stmt {
	if f.Direction != pg.FetchDirection_FETCH_FORWARD {
		t.unsupported("FETCH directions other than FORWARD and NEXT")
	}
	if f.HowMany < 0 {
		t.unsupported("FETCH with a negative count")
	}
	c := &CursorStmt{Name: f.Portalname, Count: f.HowMany, Move: f.Ismove}
	if f.HowMany == fetchAll {
		c.Count = 0
	}
	tag := "FETCH"
	if f.Ismove {
		tag = "MOVE"
	}
	return &Stmt{Kind: KindFetch, Tag: tag, Cursor: c}
}

// discard translates DISCARD ALL/PLANS/SEQUENCES/TEMP.
func discardStmt(d *pg.DiscardStmt) *Stmt {
	tag := map[pg.DiscardMode]string{pg.DiscardMode_DISCARD_ALL: "DISCARD ALL", pg.DiscardMode_DISCARD_PLANS: "DISCARD PLANS",
		pg.DiscardMode_DISCARD_SEQUENCES: "DISCARD SEQUENCES", pg.DiscardMode_DISCARD_TEMP: "DISCARD TEMP"}[d.Target]
	return &Stmt{Kind: KindDiscard, Tag: tag}
}

// transaction translates BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE.
func (t *translator) transaction(s *pg.TransactionStmt) *Stmt {
	switch s.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		tag := "BEGIN"
		if s.Kind == pg.TransactionStmtKind_TRANS_STMT_START {
			tag = "START TRANSACTION"
		}
		return &Stmt{Kind: KindBegin, Tag: tag, Tx: t.txOptions(s.Options)}
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		if s.Chain {
			t.unsupported("COMMIT AND CHAIN")
		}
		return &Stmt{Kind: KindCommit, Tag: "COMMIT"}
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		if s.Chain {
			t.unsupported("ROLLBACK AND CHAIN")
		}
		return &Stmt{Kind: KindRollback, Tag: "ROLLBACK"}
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		return &Stmt{Kind: KindSavepoint, Tag: "SAVEPOINT", Savepoint: s.SavepointName}
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		return &Stmt{Kind: KindRelease, Tag: "RELEASE", Savepoint: s.SavepointName}
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		return &Stmt{Kind: KindRollbackTo, Tag: "ROLLBACK", Savepoint: s.SavepointName}
	}
	t.unsupported("two-phase commit (PREPARE TRANSACTION)")
	return nil
}

// txOptions reads ISOLATION LEVEL, READ ONLY/WRITE and DEFERRABLE.
func (t *translator) txOptions(opts []*pg.Node) *TxOptions {
	tx := &TxOptions{}
	for _, o := range opts {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		switch d.Defname {
		case "transaction_isolation":
			s, _ := constString(d.Arg)
			tx.Isolation = strings.ToLower(s)
		case "transaction_read_only":
			b := constBool(d.Arg)
			tx.ReadOnly = &b
		case "transaction_deferrable":
			b := constBool(d.Arg)
			tx.Deferrable = &b
		default:
			t.unsupported("transaction option %s", d.Defname)
		}
	}
	return tx
}

// constBool reads a boolean or integer constant.
func constBool(n *pg.Node) bool {
	c := n.GetAConst()
	if c == nil {
		return false
	}
	if b := c.GetBoolval(); b != nil {
		return b.Boolval
	}
	if i, ok := constInt(n); ok {
		return i != 0
	}
	s, _ := constString(n)
	return s == "true" || s == "on"
}

// setStatement translates SET, SET LOCAL, SET TRANSACTION, RESET.
func (t *translator) setStatement(s *pg.VariableSetStmt) *Stmt {
	name := strings.ToLower(s.Name)
	st := &Stmt{Kind: KindSet, Tag: "SET"}
	switch s.Kind {
	case pg.VariableSetKind_VAR_SET_VALUE:
		var values []string
		if setName(name) == "timezone" {
			values = t.timeZoneValue(s.Args)
		} else {
			values = t.setValues(name, s.Args)
		}
		st.Set = &SetStmt{Name: setName(name), Values: values, Local: s.IsLocal}
	case pg.VariableSetKind_VAR_SET_DEFAULT:
		st.Set = &SetStmt{Name: setName(name), Reset: true, Local: s.IsLocal}
	case pg.VariableSetKind_VAR_RESET:
		st.Tag = "RESET"
		st.Set = &SetStmt{Name: setName(name), Reset: true}
	case pg.VariableSetKind_VAR_RESET_ALL:
		st.Tag = "RESET"
		st.Set = &SetStmt{Reset: true, All: true}
	case pg.VariableSetKind_VAR_SET_MULTI:
		if name == "transaction snapshot" {
			// SET TRANSACTION SNAPSHOT 'id' (the grammar allows only a string).
			if len(s.Args) != 1 {
				t.unsupported("SET TRANSACTION SNAPSHOT of this form")
			}
			id, _ := constString(s.Args[0])
			st.Tx = &TxOptions{Snapshot: id, Import: true}
			return st
		}
		st.Tx = t.txOptions(s.Args)
		st.Tx.Session = name == "session characteristics"
		if name != "transaction" && name != "session characteristics" {
			t.unsupported("SET %s", name)
		}
	default:
		t.unsupported("SET … FROM CURRENT")
	}
	return st
}

// setName maps SET's special spellings to parameter names.
func setName(name string) string {
	switch name {
	case "names":
		return "client_encoding"
	case "time zone":
		return "timezone"
	case "schema":
		return "search_path"
	}
	return name
}

// timeZoneValue is the zone SET TIME ZONE and SET timezone name: a string
// as given, a number of hours or an interval as PostgreSQL names a fixed
// offset ("<-07>+07", pgvalue.OffsetZoneName).
func (t *translator) timeZoneValue(args []*pg.Node) []string {
	if len(args) != 1 {
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "SET timezone takes only one argument"))
	}
	a := args[0]
	if tc := a.GetTypeCast(); tc != nil {
		s, ok := constString(tc.Arg)
		if !ok || !strings.EqualFold(lastName(tc.TypeName.Names), "interval") {
			t.unsupported("SET TIME ZONE to this kind of value")
		}
		east, ok := zoneInterval(s)
		if !ok {
			t.fail(pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"TimeZone\": \"INTERVAL '%s'\"", s))
		}
		return []string{pgvalue.OffsetZoneName(east)}
	}
	if c := a.GetAConst(); c != nil {
		switch v := c.Val.(type) {
		case *pg.A_Const_Ival:
			return []string{pgvalue.OffsetZoneName(int(v.Ival.Ival) * 3600)}
		case *pg.A_Const_Fval:
			h, err := strconv.ParseFloat(v.Fval.Fval, 64)
			if err != nil || h > 1e6 || h < -1e6 {
				t.fail(pgerror.New(pgerror.InvalidParameterValue, "invalid value for parameter \"TimeZone\": \"%s\"", v.Fval.Fval))
			}
			return []string{pgvalue.OffsetZoneName(int(math.Round(h * 3600)))}
		case *pg.A_Const_Sval:
			// A numeric string is an offset too, and named as one.
			if s := strings.TrimSpace(v.Sval.Sval); s != "" && strings.ContainsRune("+-0123456789", rune(s[0])) {
				if loc, ok := pgvalue.LoadZone(s); ok {
					_, east := time.Date(2000, 1, 1, 0, 0, 0, 0, loc).Zone()
					return []string{pgvalue.OffsetZoneName(east)}
				}
			}
		}
	}
	return t.setValues("timezone", args)
}

// zoneInterval reads the interval of SET TIME ZONE INTERVAL '…' as seconds
// east of UTC: "[+-]hh:mm[:ss]" or a quantity of hours, minutes and
// seconds ("2 hours", "-1 hour 30 minutes"); days and months are refused,
// as in PostgreSQL.
func zoneInterval(s string) (int, bool) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, false
	}
	if strings.Contains(s, ":") && !strings.Contains(s, " ") {
		sign := 1
		switch s[0] {
		case '+':
			s = s[1:]
		case '-':
			sign, s = -1, s[1:]
		}
		secs := 0
		for i, p := range strings.Split(s, ":") {
			n, err := strconv.Atoi(p)
			if err != nil || i > 2 || n < 0 {
				return 0, false
			}
			secs += n * []int{3600, 60, 1}[i]
		}
		return sign * secs, true
	}
	f := strings.Fields(s)
	if len(f)%2 != 0 {
		return 0, false
	}
	secs := 0
	for i := 0; i < len(f); i += 2 {
		n, err := strconv.Atoi(f[i])
		if err != nil {
			return 0, false
		}
		switch strings.TrimSuffix(f[i+1], "s") {
		case "hour", "hr", "h":
			secs += n * 3600
		case "minute", "min", "m":
			secs += n * 60
		case "second", "sec", "s":
			secs += n
		default:
			return 0, false
		}
	}
	return secs, true
}

// setValues renders SET's values as text.
func (t *translator) setValues(name string, args []*pg.Node) []string {
	out := make([]string, 0, len(args))
	for _, a := range args {
		c := a.GetAConst()
		if c == nil {
			t.unsupported("SET %s to this kind of value", name)
		}
		switch v := c.Val.(type) {
		case *pg.A_Const_Sval:
			out = append(out, v.Sval.Sval)
		case *pg.A_Const_Ival:
			out = append(out, strconv.Itoa(int(v.Ival.Ival)))
		case *pg.A_Const_Fval:
			out = append(out, v.Fval.Fval)
		case *pg.A_Const_Boolval:
			out = append(out, strconv.FormatBool(v.Boolval.Boolval))
		default:
			t.unsupported("SET %s to this kind of value", name)
		}
	}
	return out
}

// setConfigSelect recognizes SELECT set_config(name, value, is_local) as
// a SET that returns its value; nil for any other SELECT.
func (t *translator) setConfigSelect(s *pg.SelectStmt) *Stmt {
	if len(s.TargetList) != 1 || s.Op != pg.SetOperation_SETOP_NONE {
		return nil
	}
	rt := s.TargetList[0].GetResTarget()
	f := rt.GetVal().GetFuncCall()
	if f == nil || len(f.Funcname) == 0 || lastName(f.Funcname) != "set_config" {
		return nil
	}
	fromSettings, known := settingsRow(s)
	if (len(s.FromClause) > 0 || s.WhereClause != nil) && !fromSettings {
		return nil
	}
	t.funcName(f.Funcname)
	if len(f.Args) != 3 {
		t.fail(undefinedFunction("set_config", nil))
	}
	name, ok1 := constString(f.Args[0])
	if fromSettings {
		if ref := f.Args[0].GetColumnRef(); ref != nil && len(ref.Fields) == 1 && ref.Fields[0].GetString_().GetSval() == "name" {
			name, ok1 = known, true
		}
	}
	value, ok2 := constString(f.Args[1])
	if !ok1 || !ok2 || f.Args[2].GetAConst() == nil {
		t.unsupported("set_config() with non-constant arguments")
	}
	if rt.Name != "" && rt.Name != "set_config" {
		t.unsupported("set_config() under another column name")
	}
	if name == "" {
		t.fail(pgerror.New(pgerror.InvalidParameterValue, "SET requires parameter name"))
	}
	return &Stmt{Kind: KindSet, Tag: "SELECT", Set: &SetStmt{Name: strings.ToLower(name), Values: []string{value},
		Local: constBool(f.Args[2]), Result: true, IfKnown: fromSettings},
		Columns: []ResultColumn{{Name: "set_config", OID: pgvalue.OIDText, TypeMod: -1}}}
}

// settingsRow recognizes pg_dump's "FROM pg_settings WHERE name = 'x'"
// and returns x.
func settingsRow(s *pg.SelectStmt) (fromSettings bool, name string) {
	if len(s.FromClause) != 1 || s.WhereClause == nil {
		return false, ""
	}
	rv := s.FromClause[0].GetRangeVar()
	if rv == nil || rv.Relname != "pg_settings" || rv.Schemaname != "" && rv.Schemaname != "pg_catalog" || rv.Alias != nil {
		return false, ""
	}
	e := s.WhereClause.GetAExpr()
	if e == nil || e.Kind != pg.A_Expr_Kind_AEXPR_OP || len(e.Name) != 1 || e.Name[0].GetString_().GetSval() != "=" {
		return false, ""
	}
	ref := e.Lexpr.GetColumnRef()
	if ref == nil || len(ref.Fields) != 1 || ref.Fields[0].GetString_().GetSval() != "name" {
		return false, ""
	}
	v, ok := constString(e.Rexpr)
	return ok, v
}

// lockStatement accepts LOCK TABLE … IN ACCESS SHARE MODE (pg_dump's):
// every read runs on a snapshot that no schema change alters, so what the
// lock protects against cannot happen. Stronger modes are refused.
func (t *translator) lockStatement(s *pg.LockStmt) *Stmt {
	const accessShareLock = 1
	if s.Mode != accessShareLock {
		t.unsupported("LOCK TABLE in a mode other than ACCESS SHARE")
	}
	for _, r := range s.Relations {
		rv := r.GetRangeVar()
		name := t.readRelation(rv)
		if t.schema != nil && t.table(name) == nil && !t.sequence(name) {
			t.fail(pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", rv.Relname))
		}
	}
	return &Stmt{Kind: KindNoop, Tag: "LOCK TABLE"}
}
