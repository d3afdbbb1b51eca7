package sqlengine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
)

// acl_grant.go changes privileges (acl.go's store): GRANT and REVOKE, ALTER
// DEFAULT PRIVILEGES, OWNER TO, and what a role's drop or rename does to
// them. Each runs on the write connection inside an entry's apply, with
// internal access; its errors are the statement's, the same on every node.

// defaultsKey is the name of a row of default privileges (space "def"):
// the object kind ('r' tables and views, 'S' sequences), the schema (""
// for all, "public") and the creating role.
func defaultsKey(kind byte, inSchema bool, role string) string {
	schema := ""
	if inSchema {
		schema = "public"
	}
	return string(kind) + ":" + schema + ":" + role
}

// applyDefaults gives a new relation the default privileges its owner set
// (ALTER DEFAULT PRIVILEGES): the global ones in place of the built-in
// default, then those for schema public added, as PostgreSQL does.
func (e *Engine) applyDefaults(ctx context.Context, o *ObjectACL) error {
	kind := o.Kind
	if kind == 'v' {
		kind = 'r'
	}
	for _, inSchema := range []bool{false, true} {
		d, ok, err := e.readObjectACL(ctx, "def", defaultsKey(kind, inSchema, o.Owner))
		if err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		if !inSchema {
			o.items, o.set = append([]aclItem(nil), d.items...), true
			continue
		}
		items := o.effective()
		for _, it := range d.items {
			items = grantItems(items, []string{it.grantee}, it.grantor, it.privs, false)
			if it.grantable != "" {
				items = grantItems(items, []string{it.grantee}, it.grantor, it.grantable, true)
			}
		}
		o.items, o.set = items, true
	}
	return nil
}

// applyDefaultPrivilege runs ALTER DEFAULT PRIVILEGES … GRANT|REVOKE.
func (e *Engine) applyDefaultPrivilege(ctx context.Context, c RoleChange) (*ExecResult, error) {
	pc := c.Privilege
	kind := byte('r')
	if pc.ObjType == "sequence" {
		kind = 'S'
	}
	all := allPrivileges[kind]
	privs := pc.Privs
	if privs == "" {
		privs = all
	}
	for _, p := range privs {
		if !strings.ContainsRune(all, p) {
			return nil, pgerror.New("0LP01", "invalid privilege type %s for %s", privilegeName(byte(p)), kindNoun[kind])
		}
	}
	for _, g := range pc.Grantees {
		if err := e.needRole(ctx, g); err != nil {
			return nil, err
		}
	}
	roles := pc.ForRoles
	if len(roles) == 0 {
		roles = []string{pc.Grantor}
	}
	for _, role := range roles {
		if err := e.needRole(ctx, role); err != nil {
			return nil, err
		}
		if !pc.GrantorSuper && role != pc.Grantor {
			return nil, pgerror.New(pgerror.InsufficientPrivilege, "permission denied to change default privileges")
		}
		key := defaultsKey(kind, pc.InSchema, role)
		d, ok, err := e.readObjectACL(ctx, "def", key)
		if err != nil {
			return nil, err
		}
		if !ok {
			d = &ObjectACL{Kind: kind, Owner: role, set: true}
			if !pc.InSchema {
				d.items = (&ObjectACL{Kind: kind, Owner: role}).effective()
			}
		}
		if c.Action == RoleGrant {
			d.items = grantItems(d.items, pc.Grantees, role, privs, pc.GrantOption)
		} else {
			d.items = revokeItems(d.items, pc.Grantees, privs, pc.GrantOption)
		}
		builtin := (&ObjectACL{Kind: kind, Owner: role}).effective()
		if pc.InSchema && len(d.items) == 0 || !pc.InSchema && len(d.items) == 1 && d.items[0] == builtin[0] {
			if _, err := e.wconn.ExecContext(ctx, `DELETE FROM _pgraft_acl WHERE space = 'def' AND name = ?`, key); err != nil {
				return nil, fmt.Errorf("reset default privileges: %w", err)
			}
			e.privsDirty = true
			continue
		}
		if err := e.writeObjectACL(ctx, "def", key, d); err != nil {
			return nil, err
		}
	}
	return &ExecResult{}, nil
}

// applyPrivilege runs GRANT or REVOKE on the write connection, with
// internal access. Its errors are the statement's, the same on every node.
func (e *Engine) applyPrivilege(ctx context.Context, c RoleChange) (*ExecResult, error) {
	pc := c.Privilege
	if pc == nil {
		return nil, pgerror.New(pgerror.InternalError, "malformed privilege change in the log")
	}
	if pc.Defaults {
		return e.applyDefaultPrivilege(ctx, c)
	}
	type target struct {
		space, name string
		o           *ObjectACL
	}
	var targets []target
	switch {
	case pc.ObjType == "schema":
		o, ok, err := e.readObjectACL(ctx, "nsp", "public")
		if err != nil {
			return nil, err
		}
		if !ok {
			o = defaultPublic()
		}
		targets = append(targets, target{"nsp", "public", o})
	case pc.AllInSchema:
		rows, err := e.wconn.QueryContext(ctx, `SELECT name FROM _pgraft_acl WHERE space = 'rel' AND kind IN (`+
			map[bool]string{true: `'S'`, false: `'r', 'v'`}[pc.ObjType == "sequence"]+`) ORDER BY name`)
		if err != nil {
			return nil, fmt.Errorf("list relations: %w", err)
		}
		var names []string
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return nil, err
			}
			names = append(names, n)
		}
		rows.Close()
		for _, n := range names {
			o, _, err := e.readObjectACL(ctx, "rel", n)
			if err != nil {
				return nil, err
			}
			if pc.GrantorSuper || o.Owner == pc.Grantor {
				targets = append(targets, target{"rel", n, o})
			}
		}
	default:
		for _, n := range pc.Objects {
			o, ok, err := e.readObjectACL(ctx, "rel", n)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", n)
			}
			if o.Kind == 'i' {
				return nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is an index", n)
			}
			if pc.ObjType == "sequence" && o.Kind != 'S' {
				return nil, pgerror.New(pgerror.WrongObjectType, "\"%s\" is not a sequence", n)
			}
			targets = append(targets, target{"rel", n, o})
		}
	}
	grantees := pc.Grantees
	for _, g := range grantees {
		if err := e.needRole(ctx, g); err != nil {
			return nil, err
		}
	}
	grantor := pc.Grantor
	for _, t := range targets {
		all := allPrivileges[t.o.Kind]
		privs := pc.Privs
		if privs == "" {
			privs = all
		}
		for _, p := range privs {
			if !strings.ContainsRune(all, p) && !(pc.ObjType == "table" && t.o.Kind == 'S') {
				return nil, pgerror.New("0LP01", "invalid privilege type %s for %s", privilegeName(byte(p)), kindNoun[t.o.Kind])
			}
		}
		privs = keepLetters(privs, all) // GRANT … ON TABLE of a sequence: what a sequence has (PostgreSQL warns)
		by := t.o.Owner                 // a superuser or the owner grants as the owner
		if !pc.GrantorSuper && grantor != t.o.Owner {
			if !t.o.grantable(grantor, privs) {
				return nil, pgerror.New(pgerror.InsufficientPrivilege, "permission denied for %s %s", kindNoun[t.o.Kind], t.name)
			}
			by = grantor
		}
		items := append([]aclItem(nil), t.o.effective()...)
		if c.Action == RoleGrant {
			items = grantItems(items, grantees, by, privs, pc.GrantOption)
		} else {
			items = revokeItems(items, grantees, privs, pc.GrantOption)
		}
		t.o.items, t.o.set = items, true
		if err := e.writeObjectACL(ctx, t.space, t.name, t.o); err != nil {
			return nil, err
		}
	}
	return &ExecResult{}, nil
}

// grantable reports whether user holds every privilege of privs with
// GRANT OPTION.
func (o *ObjectACL) grantable(user, privs string) bool {
	for _, p := range privs {
		ok := false
		for _, it := range o.effective() {
			if (it.grantee == user || it.grantee == "") && strings.ContainsRune(it.grantable, p) {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func grantItems(items []aclItem, grantees []string, grantor, privs string, option bool) []aclItem {
	for _, g := range grantees {
		i := len(items) // a new item unless g has one from grantor
		for j, it := range items {
			if it.grantee == g && it.grantor == grantor {
				i = j
			}
		}
		if i == len(items) {
			items = append(items, aclItem{grantee: g, grantor: grantor})
		}
		items[i].privs = unionLetters(items[i].privs, privs)
		if option {
			items[i].grantable = unionLetters(items[i].grantable, privs)
		}
	}
	return items
}

func revokeItems(items []aclItem, grantees []string, privs string, optionOnly bool) []aclItem {
	out := items[:0]
	for _, it := range items {
		for _, g := range grantees {
			if it.grantee == g {
				it.grantable = dropLetters(it.grantable, privs)
				if !optionOnly {
					it.privs = dropLetters(it.privs, privs)
				}
			}
		}
		if it.privs != "" {
			out = append(out, it)
		}
	}
	return out
}

func unionLetters(a, b string) string {
	for _, c := range b {
		if !strings.ContainsRune(a, c) {
			a += string(c)
		}
	}
	return keepLetters(a, privilegeOrder)
}

func dropLetters(a, b string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(b, r) {
			return -1
		}
		return r
	}, a)
}

// keepLetters keeps the letters of a that are in order, in order's order.
func keepLetters(a, order string) string {
	var b strings.Builder
	for _, c := range order {
		if strings.ContainsRune(a, c) {
			b.WriteRune(c)
		}
	}
	return b.String()
}

func privilegeName(p byte) string {
	return map[byte]string{'r': "SELECT", 'a': "INSERT", 'w': "UPDATE", 'd': "DELETE", 'D': "TRUNCATE",
		'x': "REFERENCES", 't': "TRIGGER", 'U': "USAGE", 'C': "CREATE"}[p]
}

// setRelationOwner makes role the owner of relation rel (ALTER … OWNER TO), with
// the relation's indexes and the sequences its columns own; the old
// owner's entries in its ACL pass to the new owner, as PostgreSQL's
// aclnewowner does. A user who is not a superuser may only give a relation
// to itself (pgraft has no role membership). The caller holds the write
// connection.
func (e *Engine) setRelationOwner(ctx context.Context, rel, role string) error {
	user := e.det.ctx.User
	to := role
	return e.withInternalNested(func() error {
		var super bool
		err := e.wconn.QueryRowContext(ctx, `SELECT coalesce((SELECT superuser FROM _pgraft_roles WHERE name = ?), 1)`, user).Scan(&super)
		if err != nil {
			return fmt.Errorf("read role %s: %w", user, err)
		}
		if !super && role != user {
			return pgerror.New(pgerror.InsufficientPrivilege, "must be member of role \"%s\"", role)
		}
		o, ok, err := e.readObjectACL(ctx, "rel", rel)
		if err != nil || !ok {
			return err
		}
		names := []string{rel}
		rows, err := e.wconn.QueryContext(ctx, `SELECT name FROM main.sqlite_schema WHERE type = 'index' AND tbl_name = ?1
			UNION ALL SELECT name FROM _pgraft_sequences WHERE owner_table = ?1`, rel)
		if err != nil {
			return fmt.Errorf("list owned objects of %s: %w", rel, err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				rows.Close()
				return err
			}
			names = append(names, n)
		}
		rows.Close()
		for _, n := range names {
			if n != rel {
				if o, ok, err = e.readObjectACL(ctx, "rel", n); err != nil || !ok {
					if err != nil {
						return err
					}
					continue
				}
			}
			old := o.Owner
			for i := range o.items {
				if o.items[i].grantee == old {
					o.items[i].grantee = to
				}
				if o.items[i].grantor == old {
					o.items[i].grantor = to
				}
			}
			o.Owner = to
			if err := e.writeObjectACL(ctx, "rel", n, o); err != nil {
				return err
			}
		}
		return nil
	})
}

// roleDependents lists what keeps a role from being dropped, as
// PostgreSQL's DETAIL lines ("owner of table t", "privileges for table
// t"). The caller holds the write connection with internal access.
func (e *Engine) roleDependents(ctx context.Context, role string) ([]string, error) {
	rows, err := e.wconn.QueryContext(ctx, `SELECT space, name, kind, owner, acl FROM _pgraft_acl ORDER BY space DESC, name`)
	if err != nil {
		return nil, fmt.Errorf("read privileges: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var space, name, kind, owner string
		var acl sql.NullString
		if err := rows.Scan(&space, &name, &kind, &owner, &acl); err != nil {
			return nil, err
		}
		what := kindNoun[kind[0]] + " " + name
		if space == "def" {
			what = "default privileges on new " + map[string]string{"r": "relations", "S": "sequences"}[kind] +
				" belonging to role " + owner
			if strings.Contains(name, ":public:") {
				what += " in schema public"
			}
		}
		if owner == role && kind != "i" {
			out = append(out, "owner of "+what)
		}
		for _, it := range parseStoredACL(acl.String) {
			if it.grantee == role {
				out = append(out, "privileges for "+what)
				break
			}
		}
	}
	return out, rows.Err()
}

// renameRoleACL follows ALTER ROLE … RENAME TO in _pgraft_acl. The caller
// holds the write connection with internal access.
func (e *Engine) renameRoleACL(ctx context.Context, from, to string) error {
	if _, err := e.wconn.ExecContext(ctx, `UPDATE _pgraft_acl SET name = substr(name, 1, length(name) - length(?1)) || ?2
		WHERE space = 'def' AND owner = ?1`, from, to); err != nil {
		return fmt.Errorf("rename owner %s: %w", from, err)
	}
	if _, err := e.wconn.ExecContext(ctx, `UPDATE _pgraft_acl SET owner = ?2 WHERE owner = ?1`, from, to); err != nil {
		return fmt.Errorf("rename owner %s: %w", from, err)
	}
	rows, err := e.wconn.QueryContext(ctx, `SELECT space, name, acl FROM _pgraft_acl WHERE acl IS NOT NULL`)
	if err != nil {
		return fmt.Errorf("read privileges: %w", err)
	}
	type change struct{ space, name, acl string }
	var changes []change
	for rows.Next() {
		var space, name, acl string
		if err := rows.Scan(&space, &name, &acl); err != nil {
			rows.Close()
			return err
		}
		items := parseStoredACL(acl)
		changed := false
		for i := range items {
			if items[i].grantee == from {
				items[i].grantee, changed = to, true
			}
			if items[i].grantor == from {
				items[i].grantor, changed = to, true
			}
		}
		if changed {
			changes = append(changes, change{space, name, storedACL(items)})
		}
	}
	rows.Close()
	for _, c := range changes {
		if _, err := e.wconn.ExecContext(ctx, `UPDATE _pgraft_acl SET acl = ? WHERE space = ? AND name = ?`, c.acl, c.space, c.name); err != nil {
			return fmt.Errorf("rename grantee %s: %w", from, err)
		}
	}
	e.privsDirty = true
	return nil
}
