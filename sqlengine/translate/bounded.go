package translate

import pg "github.com/pganalyze/pg_query_go/v6"

// boundedInsert reports whether an INSERT does a small, fixed amount of
// work per row it names: VALUES rows of constants, parameters, casts of
// them, DEFAULT and operators over them; ON CONFLICT DO NOTHING, or DO
// UPDATE of the one conflicting row with such values and columns (of the
// row or of excluded).
// Such a write cannot run away or read anything, so the leader may propose
// it without running it first (Stmt.Bounded; docs/design.md §4): its
// apply is bounded by its own size and the work budget still holds.
func boundedInsert(s *pg.InsertStmt) bool {
	if s.WithClause != nil || s.SelectStmt == nil {
		return false
	}
	if oc := s.OnConflictClause; oc != nil {
		switch oc.Action {
		case pg.OnConflictAction_ONCONFLICT_NOTHING:
		case pg.OnConflictAction_ONCONFLICT_UPDATE:
			for _, n := range oc.TargetList {
				rt := n.GetResTarget()
				if rt == nil || !simpleValue(rt.Val, 0, true) {
					return false
				}
			}
			if oc.WhereClause != nil && !simpleValue(oc.WhereClause, 0, true) {
				return false
			}
		default:
			return false
		}
	}
	sel := s.SelectStmt.GetSelectStmt()
	if sel == nil || len(sel.ValuesLists) == 0 || len(sel.TargetList) > 0 || len(sel.FromClause) > 0 ||
		sel.WithClause != nil || sel.Larg != nil || sel.Rarg != nil {
		return false
	}
	for _, row := range sel.ValuesLists {
		list := row.GetList()
		if list == nil {
			return false
		}
		for _, v := range list.Items {
			if !simpleValue(v, 0, false) {
				return false
			}
		}
	}
	return true
}

// simpleValue: a constant, a parameter, DEFAULT, a column of the row when
// columns is set, or a cast of, operator over or AND/OR/NOT of those,
// nested no deeper than a few levels.
func simpleValue(n *pg.Node, depth int, columns bool) bool {
	if n == nil || depth > 8 {
		return false
	}
	switch {
	case n.GetAConst() != nil, n.GetParamRef() != nil, n.GetSetToDefault() != nil:
		return true
	case n.GetColumnRef() != nil:
		return columns
	case n.GetTypeCast() != nil:
		return simpleValue(n.GetTypeCast().Arg, depth+1, columns)
	case n.GetAExpr() != nil:
		e := n.GetAExpr()
		if e.Kind != pg.A_Expr_Kind_AEXPR_OP {
			return false
		}
		return (e.Lexpr == nil || simpleValue(e.Lexpr, depth+1, columns)) && simpleValue(e.Rexpr, depth+1, columns)
	case n.GetBoolExpr() != nil:
		for _, a := range n.GetBoolExpr().Args {
			if !simpleValue(a, depth+1, columns) {
				return false
			}
		}
		return true
	}
	return false
}
