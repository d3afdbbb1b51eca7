package translate

import (
	"reflect"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// shape.go lets queries that differ only in their constants share one
// translation. Parsing with PostgreSQL's parser is most of a statement's
// translation cost, and clients on the simple protocol (pgbench
// -M simple, many ORMs and tools) send every value inline, so caching on
// the exact text never hits for them.
//
// A shape is built from the first query of its kind: it is translated as
// usual, and once more with every constant that the translation only
// copies into the SQLite text (constant(), outside ORDER BY, GROUP BY,
// LIMIT and window clauses) emitted as a parameter. The shape is kept only
// if putting the constants' own text back into the parameterized
// translation gives exactly the usual translation, every parameter stands
// for one constant that the lexer (literals.go) found at the same offset
// and renders the same way, and nothing else of the statement differs.
// Constants the translation used otherwise (a cast's type modifier, an
// ordinal, a function's field name) stay part of the shape: a later query
// must have the very same text there. Later queries of the shape then cost
// a lexer pass: the constants become bound parameter values, which SQLite
// treats exactly as the literals (neither has an affinity).

// litExtract collects the parameters a shape's translation made of constants.
type litExtract struct {
	slots     []litSlot
	suspended int
}

// litSlot is one parameter ?n (n = index+1) standing for a constant.
type litSlot struct {
	loc    int32  // the constant's offset in the query (the parser's location)
	normal string // the constant as literal() renders it
	class  litClass
}

// slot returns the parameter standing for c, rendered normally as s; a
// constant that cannot be a parameter stays s.
func (e *litExtract) slot(c *pg.A_Const, s string) string {
	if e.suspended > 0 {
		return s
	}
	var class litClass
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		class = litInt4
	case *pg.A_Const_Fval:
		if _, err := strconv.ParseInt(v.Fval.Fval, 10, 64); err == nil {
			class = litInt8
		} else {
			class = litNumeric
		}
	case *pg.A_Const_Sval:
		class = litString
	default:
		return s
	}
	e.slots = append(e.slots, litSlot{loc: c.Location, normal: s, class: class})
	return "?" + strconv.Itoa(len(e.slots))
}

// suspend and resume bracket emission where constants must stay literals;
// both are no-ops outside a shape's translation.
func (e *litExtract) suspend() {
	if e != nil {
		e.suspended++
	}
}

func (e *litExtract) resume() {
	if e != nil {
		e.suspended--
	}
}

// Shape is the shared translation of the queries whose text equals a
// ScanLiterals shape key. It is immutable and safe for concurrent use.
type Shape struct {
	tmpl     *Stmt      // SQL with ?n for the shared constants
	fixed    []string   // per literal: the text it must have, "" if it is shared
	shared   []bool     // per literal: bound through a slot
	slotLit  []int      // per slot: the literal it binds
	classes  []litClass // per literal
	srcStart int        // tmpl.Source's span in the query it was built from
	srcEnd   int
	origOff  []int // per literal: its offset in that query
	origLen  []int // per literal: its length there
}

// WithShape is SQL for a query whose constants are lits (from
// ScanLiterals). It returns the translation and, when the query qualifies,
// a Shape for later queries with the same shape key; shape is nil when it
// does not (several statements, not a DML statement, a constant the
// translation does not merely copy, …).
func WithShape(sql string, lits []Literal, schema Schema, opts Options) (stmts []*Stmt, shape *Shape, err error) {
	if err := checkParseDepth(sql); err != nil {
		return nil, nil, err
	}
	tree, err := pg.Parse(sql)
	if err != nil {
		return nil, nil, parseError(err)
	}
	stmts = make([]*Stmt, 0, len(tree.Stmts))
	for _, raw := range tree.Stmts {
		st, err := translateRaw(sql, raw, schema, opts)
		if err != nil {
			return nil, nil, err
		}
		stmts = append(stmts, st)
	}
	if len(stmts) != 1 || !shapeable(stmts[0]) {
		return stmts, nil, nil
	}
	ex := &litExtract{}
	xopts := opts
	xopts.extract = ex
	tmpl, err := translateRaw(sql, tree.Stmts[0], schema, xopts)
	if err != nil || len(ex.slots) == 0 {
		return stmts, nil, nil
	}
	return stmts, buildShape(sql, tree.Stmts[0], stmts[0], tmpl, ex.slots, lits), nil
}

// shapeable reports whether a statement's kind may share a translation.
func shapeable(st *Stmt) bool {
	switch st.Kind {
	case KindSelect, KindInsert, KindUpdate, KindDelete:
	default:
		return false
	}
	return len(st.ParamOIDs) == 0 && !st.Catalog && !st.Checksum && !st.CommitIndex && !st.ExportSnapshot && st.Advisory == "" && len(st.Post) == 0
}

// buildShape checks a parameterized translation against the usual one and
// ties each parameter to its constant; nil when anything does not match.
func buildShape(sql string, raw *pg.RawStmt, normal, tmpl *Stmt, slots []litSlot, lits []Literal) *Shape {
	byOff := make(map[int]int, len(lits))
	for i, l := range lits {
		byOff[l.Off] = i
	}
	sh := &Shape{tmpl: tmpl, fixed: make([]string, len(lits)), shared: make([]bool, len(lits)),
		slotLit: make([]int, len(slots)), classes: make([]litClass, len(lits))}
	for i, s := range slots {
		li, ok := byOff[int(s.loc)]
		if !ok || lits[li].class != s.class || renderLiteral(lits[li]) != s.normal {
			return nil // e.g. -5: the parser's constant starts at the minus
		}
		sh.slotLit[i], sh.shared[li], sh.classes[li] = li, true, s.class
	}
	for i, l := range lits {
		if !sh.shared[i] {
			sh.fixed[i] = l.Text
		}
		sh.origOff = append(sh.origOff, l.Off)
		sh.origLen = append(sh.origLen, len(l.Text))
	}
	restored, ok := fillSlots(tmpl.SQL, slots)
	if !ok {
		return nil
	}
	check := *tmpl
	check.SQL = restored
	if !reflect.DeepEqual(&check, normal) {
		return nil
	}
	sh.srcStart = int(raw.StmtLocation)
	sh.srcEnd = len(sql)
	if raw.StmtLen > 0 && sh.srcStart+int(raw.StmtLen) <= len(sql) {
		sh.srcEnd = sh.srcStart + int(raw.StmtLen)
	}
	if sh.srcStart > sh.srcEnd || statementText(sql, raw) != tmpl.Source {
		return nil
	}
	return sh
}

// renderLiteral is how literal() renders a constant the lexer found.
func renderLiteral(l Literal) string {
	switch l.class {
	case litInt4:
		return strconv.FormatInt(l.value.(int64), 10)
	case litString:
		return "'" + strings.ReplaceAll(l.value.(string), "'", "''") + "'"
	case litNumeric:
		return "'" + l.value.(string) + "'" // literal()'s exact text
	}
	return l.Text // int8 constants keep their text
}

// fillSlots puts each slot's normal rendering in place of its ?n.
func fillSlots(sqlText string, slots []litSlot) (string, bool) {
	var b strings.Builder
	used := 0
	for i := 0; i < len(sqlText); i++ {
		if sqlText[i] != '?' {
			b.WriteByte(sqlText[i])
			continue
		}
		j := i + 1
		for j < len(sqlText) && isDigit(sqlText[j]) {
			j++
		}
		if j == i+1 { // not a parameter: "?column?"
			b.WriteByte('?')
			continue
		}
		n, err := strconv.Atoi(sqlText[i+1 : j])
		if err != nil || n < 1 || n > len(slots) {
			return "", false
		}
		b.WriteString(slots[n-1].normal)
		used++
		i = j - 1
	}
	return b.String(), used == len(slots)
}

// Instantiate returns the statement for a query with this shape and the
// constants lits, or ok false when a constant differs where the shape
// needs the same text, or is of another kind (5 vs 5000000000 vs 5.5).
func (sh *Shape) Instantiate(sql string, lits []Literal) (stmts []*Stmt, ok bool) {
	if len(lits) != len(sh.fixed) {
		return nil, false
	}
	for i, l := range lits {
		if sh.shared[i] {
			if l.class != sh.classes[i] {
				return nil, false
			}
		} else if l.Text != sh.fixed[i] {
			return nil, false
		}
	}
	bound := make([]any, len(sh.slotLit))
	for i, li := range sh.slotLit {
		bound[i] = lits[li].value
	}
	st := *sh.tmpl
	st.Bound = bound
	st.Template = sh.tmpl
	st.Source = sh.source(sql, lits)
	return []*Stmt{&st}, true
}

// source cuts the statement's text out of sql: the shape's span, with each
// end moved by the change in length of the constants before it.
func (sh *Shape) source(sql string, lits []Literal) string {
	move := func(p int) int {
		q := p
		for i, l := range lits {
			if sh.origOff[i] < p {
				q += len(l.Text) - sh.origLen[i]
			}
		}
		return q
	}
	start, end := move(sh.srcStart), move(sh.srcEnd)
	if start < 0 || end > len(sql) || start > end {
		return strings.TrimSpace(sql)
	}
	return strings.TrimSpace(sql[start:end])
}
