package sqlengine

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// acl.go is ownership and privileges (issue 14): who owns each relation
// and what GRANT gave whom, as PostgreSQL's relowner and relacl, kept in
// _pgraft_acl and changed only through the log, so that every node checks
// the same rights.
//
//   - Owner. A relation's owner is the role that created it (the entry's
//     ExecContext.User), recorded when a DDL statement leaves a relation
//     without a row (claimRelations); a user without a stored role (trust)
//     creates for the bootstrap superuser (role oid 10, "postgres"). An
//     index is owned by its table's owner. ALTER …
//     OWNER TO changes it; renames carry the row along, drops remove it.
//   - ACL. NULL is PostgreSQL's default (the owner holds every privilege,
//     nobody else any); otherwise PostgreSQL's aclitem[] text
//     ({owner=arwdDxt/owner,app=r/owner,=r/owner}), which pg_class.relacl
//     shows as it is. Schema public has a row once GRANT ON SCHEMA changed
//     it; its default is PostgreSQL 15's (CREATE for the database owner,
//     USAGE for PUBLIC).
//
// The check itself is the server's (server/privileges.go), against the
// engine's copy of this table (Privileges), before a statement runs:
// apply never checks, so an entry means the same on every node.

// aclTableSQL creates the store. space is "rel" (tables, views, sequences,
// indexes: one namespace, as pg_class) or "nsp" (schema public).
const aclTableSQL = `CREATE TABLE IF NOT EXISTS _pgraft_acl (
	space TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL,
	owner TEXT NOT NULL, acl TEXT, PRIMARY KEY (space, name)) WITHOUT ROWID`

// allPrivileges are the privileges of each kind of object, in PostgreSQL's
// order (ACL_ALL_RIGHTS_*).
var allPrivileges = map[byte]string{'r': "arwdDxt", 'v': "arwdDxt", 'S': "rwU", 'n': "UC"}

// privilegeOrder is the order PostgreSQL prints aclitem letters in.
const privilegeOrder = "arwdDxtXUCTc"

// kindNoun names a relation kind in messages ("permission denied for table t").
var kindNoun = map[byte]string{'r': "table", 'v': "view", 'S': "sequence", 'i': "index", 'n': "schema"}

// aclItem is one grantee's privileges from one grantor.
type aclItem struct {
	grantee, grantor string // "" grantee: PUBLIC
	privs, grantable string // letters; grantable ⊆ privs
}

// ObjectACL is one object's owner and privileges.
type ObjectACL struct {
	Kind  byte // 'r' table, 'v' view, 'S' sequence, 'i' index, 'n' schema
	Owner string
	items []aclItem
	set   bool // items is explicit (acl not NULL)
}

// Privileges is the privilege catalog as of the last applied entry.
type Privileges struct {
	rels   map[string]*ObjectACL
	public *ObjectACL
}

// Privileges returns the engine's copy of the privilege catalog.
func (e *Engine) Privileges() *Privileges {
	if p := e.privs.Load(); p != nil {
		return p
	}
	return &Privileges{rels: map[string]*ObjectACL{}, public: defaultPublic()}
}

// defaultPublic is schema public as PostgreSQL 15 creates it: owned by
// pg_database_owner (the database owner, a superuser here), USAGE for
// PUBLIC.
func defaultPublic() *ObjectACL { return &ObjectACL{Kind: 'n', Owner: "pg_database_owner"} }

// Owner returns the owner of relation rel and whether rel is a user
// relation.
func (p *Privileges) Owner(rel string) (string, bool) {
	o, ok := p.rels[rel]
	if !ok {
		return "", false
	}
	return o.Owner, true
}

// Check reports whether user, who is not a superuser, may make access a:
// nil, or 42501 as PostgreSQL words it. A relation that is not a user
// relation (a catalog, or one that does not exist) passes: running the
// statement decides about it.
func (p *Privileges) Check(user string, a translate.Access) error {
	if a.Schema {
		if p.public.holds(user, a.Privs) {
			return nil
		}
		return pgerror.New(pgerror.InsufficientPrivilege, "permission denied for schema public")
	}
	o, ok := p.rels[a.Rel]
	if !ok {
		return nil
	}
	if a.Privs == "O" {
		if o.Owner == user {
			return nil
		}
		return pgerror.New(pgerror.InsufficientPrivilege, "must be owner of %s %s", kindNoun[o.Kind], a.Rel)
	}
	if o.Kind == 'i' || o.holds(user, a.Privs) {
		return nil
	}
	return pgerror.New(pgerror.InsufficientPrivilege, "permission denied for %s %s", kindNoun[o.Kind], a.Rel)
}

// holds reports whether user holds any of privs on o, as owner, grantee
// or through PUBLIC.
func (o *ObjectACL) holds(user, privs string) bool {
	for _, it := range o.effective() {
		if (it.grantee == user || it.grantee == "") && strings.ContainsAny(it.privs, privs) {
			return true
		}
	}
	return false
}

// effective is o's ACL with the default filled in.
func (o *ObjectACL) effective() []aclItem {
	if o.set {
		return o.items
	}
	if o.Kind == 'n' { // PostgreSQL 15's public: the database owner (a superuser here) may create
		return []aclItem{{grantee: o.Owner, grantor: o.Owner, privs: "UC"}, {grantee: "", grantor: o.Owner, privs: "U"}}
	}
	return []aclItem{{grantee: o.Owner, grantor: o.Owner, privs: allPrivileges[o.Kind]}}
}

// aclText is PostgreSQL's aclitem[] text of items.
func aclText(items []aclItem) string {
	name := aclName
	parts := make([]string, 0, len(items))
	for _, it := range items {
		var b strings.Builder
		if it.grantee != "" {
			b.WriteString(name(it.grantee))
		}
		b.WriteByte('=')
		for _, c := range privilegeOrder {
			if strings.ContainsRune(it.privs, c) {
				b.WriteRune(c)
				if strings.ContainsRune(it.grantable, c) {
					b.WriteByte('*')
				}
			}
		}
		b.WriteByte('/')
		b.WriteString(name(it.grantor))
		s := b.String()
		if strings.ContainsAny(s, `"{},\ `) {
			s = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
		}
		parts = append(parts, s)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// aclName quotes a role name in an aclitem as PostgreSQL's putid does.
func aclName(n string) string {
	for _, c := range n {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c > 127) {
			return `"` + strings.ReplaceAll(n, `"`, `""`) + `"`
		}
	}
	return n
}

// storedACL is the stored form of items: a JSON-free, line-based text the
// engine alone reads ("grantee\tgrantor\tprivs\tgrantable" per line), so
// that role names need no quoting rules; pg_class shows aclText.
func storedACL(items []aclItem) string {
	var b strings.Builder
	for _, it := range items {
		fmt.Fprintf(&b, "%s\t%s\t%s\t%s\n", it.grantee, it.grantor, it.privs, it.grantable)
	}
	return b.String()
}

func parseStoredACL(s string) []aclItem {
	var items []aclItem
	for _, line := range strings.Split(s, "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 {
			continue
		}
		items = append(items, aclItem{grantee: f[0], grantor: f[1], privs: f[2], grantable: f[3]})
	}
	if items == nil {
		items = []aclItem{}
	}
	return items
}

// loadPrivileges reads _pgraft_acl into the engine's copy. The caller
// holds the write connection with internal access.
func (e *Engine) loadPrivileges(ctx context.Context) error {
	rows, err := e.wconn.QueryContext(ctx, `SELECT space, name, kind, owner, acl FROM _pgraft_acl`)
	if err != nil {
		return fmt.Errorf("read privileges: %w", err)
	}
	defer rows.Close()
	p := &Privileges{rels: map[string]*ObjectACL{}, public: defaultPublic()}
	for rows.Next() {
		var space, name, kind, owner string
		var acl sql.NullString
		if err := rows.Scan(&space, &name, &kind, &owner, &acl); err != nil {
			return fmt.Errorf("read privileges: %w", err)
		}
		o := &ObjectACL{Kind: kind[0], Owner: owner}
		if acl.Valid {
			o.items, o.set = parseStoredACL(acl.String), true
		}
		switch space {
		case "nsp":
			p.public = o
		case "rel":
			p.rels[name] = o
		} // "def": read when a relation is created (applyDefaults)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read privileges: %w", err)
	}
	e.privs.Store(p)
	e.privsDirty = false
	return nil
}

// userRelationsSQL lists the user relations with their kind and, for an
// index, its table.
const userRelationsSQL = `SELECT s.name, CASE s.type WHEN 'table' THEN 'r' WHEN 'view' THEN 'v' ELSE 'i' END AS kind,
       s.tbl_name AS tbl FROM main.sqlite_schema s
 WHERE s.type IN ('table', 'view', 'index') AND ` + userRelFilter + `
UNION ALL SELECT q.name, 'S', NULL FROM _pgraft_sequences q`

// claimRelations brings _pgraft_acl up to the schema after a DDL
// statement: rows of relations that are gone go, relations without a row
// get one owned by the statement's user (an index: by its table's owner).
// The caller holds the write connection.
func (e *Engine) claimRelations(ctx context.Context) error {
	return e.withInternalNested(func() error {
		owner := e.det.ctx.User
		if ok, err := e.roleExists(ctx, owner); err != nil {
			return err
		} else if !ok {
			if owner, err = e.storedBootstrapName(ctx); err != nil { // a user without a role (trust)
				return err
			}
		}
		if _, err := e.wconn.ExecContext(ctx, `DELETE FROM _pgraft_acl WHERE space = 'rel' AND name NOT IN (SELECT name FROM (`+userRelationsSQL+`))`); err != nil {
			return fmt.Errorf("forget dropped relations: %w", err)
		}
		rows, err := e.wconn.QueryContext(ctx, `SELECT u.name, u.kind, coalesce(u.tbl, '') FROM (`+userRelationsSQL+`) u
			WHERE NOT EXISTS (SELECT 1 FROM _pgraft_acl a WHERE a.space = 'rel' AND a.name = u.name) ORDER BY u.kind = 'i', u.name`)
		if err != nil {
			return fmt.Errorf("list new relations: %w", err)
		}
		type rel struct{ name, kind, tbl string }
		var fresh []rel
		for rows.Next() {
			var r rel
			if err := rows.Scan(&r.name, &r.kind, &r.tbl); err != nil {
				rows.Close()
				return fmt.Errorf("list new relations: %w", err)
			}
			fresh = append(fresh, r)
		}
		rows.Close()
		for _, r := range fresh {
			o := &ObjectACL{Kind: r.kind[0], Owner: owner}
			if r.kind == "i" {
				if t, ok, err := e.readObjectACL(ctx, "rel", r.tbl); err != nil {
					return err
				} else if ok {
					o.Owner = t.Owner
				}
			} else if err := e.applyDefaults(ctx, o); err != nil {
				return err
			}
			if err := e.writeObjectACL(ctx, "rel", r.name, o); err != nil {
				return err
			}
		}
		e.privsDirty = true
		return nil
	})
}

// sequencesClaimed follows a statement that created, dropped or renamed
// sequences: renamed ones keep their row, then claimRelations.
func (e *Engine) sequencesClaimed(ctx context.Context) error {
	for _, r := range e.seq.renames {
		if err := e.renameRelationACL(ctx, r[0], r[1]); err != nil {
			return err
		}
	}
	return e.claimRelations(ctx)
}

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

// renameRelationACL carries a relation's row to its new name (ALTER …
// RENAME TO). The caller holds the write connection.
func (e *Engine) renameRelationACL(ctx context.Context, from, to string) error {
	return e.withInternalNested(func() error {
		_, err := e.wconn.ExecContext(ctx, `UPDATE _pgraft_acl SET name = ?2 WHERE space = 'rel' AND name = ?1`, from, to)
		e.privsDirty = true
		return err
	})
}

// readObjectACL reads one row of _pgraft_acl; ok is false without one.
// The caller holds the write connection with internal access.
func (e *Engine) readObjectACL(ctx context.Context, space, name string) (o *ObjectACL, ok bool, err error) {
	var kind, owner string
	var acl sql.NullString
	err = e.wconn.QueryRowContext(ctx, `SELECT kind, owner, acl FROM _pgraft_acl WHERE space = ? AND name = ?`,
		space, name).Scan(&kind, &owner, &acl)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read privileges of %s: %w", name, err)
	}
	o = &ObjectACL{Kind: kind[0], Owner: owner}
	if acl.Valid {
		o.items, o.set = parseStoredACL(acl.String), true
	}
	return o, true, nil
}

func (e *Engine) writeObjectACL(ctx context.Context, space, name string, o *ObjectACL) error {
	var acl any
	if o.set {
		acl = storedACL(o.items)
	}
	_, err := e.wconn.ExecContext(ctx, `INSERT OR REPLACE INTO _pgraft_acl (space, name, kind, owner, acl) VALUES (?, ?, ?, ?, ?)`,
		space, name, string(o.Kind), o.Owner, acl)
	if err != nil {
		return fmt.Errorf("write privileges of %s: %w", name, err)
	}
	e.privsDirty = true
	return nil
}

// Apply reads roles from _pgraft_roles, never the engine's copy: the copy
// lags inside an apply batch (a role an earlier entry of the batch dropped
// is still in it), and batches differ between nodes. The callers hold the
// write connection with internal access.

// roleExists reports whether role name is stored.
func (e *Engine) roleExists(ctx context.Context, name string) (bool, error) {
	var n int
	if err := e.wconn.QueryRowContext(ctx, `SELECT count(*) FROM _pgraft_roles WHERE name = ?`, name).Scan(&n); err != nil {
		return false, fmt.Errorf("read role %s: %w", name, err)
	}
	return n > 0, nil
}

// storedBootstrapName is the bootstrap superuser's name: role oid 10's, or
// postgres while none is stored (trust).
func (e *Engine) storedBootstrapName(ctx context.Context) (string, error) {
	var name string
	err := e.wconn.QueryRowContext(ctx, `SELECT coalesce((SELECT name FROM _pgraft_roles WHERE oid = 10), 'postgres')`).Scan(&name)
	if err != nil {
		return "", fmt.Errorf("read the bootstrap role: %w", err)
	}
	return name, nil
}

// needRole fails with 42704 unless name is PUBLIC (""), a stored role or
// the bootstrap superuser.
func (e *Engine) needRole(ctx context.Context, name string) error {
	if name == "" {
		return nil
	}
	ok, err := e.roleExists(ctx, name)
	if err != nil || ok {
		return err
	}
	if b, err := e.storedBootstrapName(ctx); err != nil || b == name {
		return err
	}
	return pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", name)
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

// hasPrivilege answers has_table_privilege(user, table, privilege) and its
// kin (always with the user: translation supplies the session's) from the
// privilege catalog, as PostgreSQL's: several privileges separated by
// commas mean any of them, "WITH GRANT OPTION" asks for the option. A
// column is answered by its table (pgraft has no column privileges).
func (s *catalogState) hasPrivilege(fn string, a []any) (any, error) {
	user, obj, priv := asString(a[0]), a[1], asString(a[len(a)-1])
	var roles map[string]Role
	if s != nil && s.roles != nil {
		if r := s.roles.Load(); r != nil {
			roles = *r
		}
	}
	r, ok := roles[user]
	if !ok && user != "postgres" {
		return nil, pgerror.New(pgerror.UndefinedObject, "role \"%s\" does not exist", user)
	}
	var p *Privileges
	if s != nil && s.privs != nil {
		p = s.privs.Load()
	}
	if p == nil {
		p = &Privileges{rels: map[string]*ObjectACL{}, public: defaultPublic()}
	}
	var o *ObjectACL
	if fn == "has_schema_privilege" {
		if name := asString(obj); name != "public" && name != "2200" {
			return int64(1), nil // pg_catalog, information_schema: everyone's USAGE
		}
		o = p.public
	} else {
		name := ""
		if n, err := toInt(obj); err == nil {
			if snap := s.Get(); snap != nil {
				if t := snap.byOID[uint32(n)]; t != nil {
					name = t.Name
				}
			}
		} else if name, ok = translate.RegclassName(asString(obj)); !ok {
			return nil, pgerror.New(pgerror.UndefinedTable, "relation \"%s\" does not exist", asString(obj))
		}
		if o = p.rels[name]; o == nil {
			return int64(1), nil // a catalog relation: everyone may read it
		}
	}
	if !ok || r.Superuser {
		return int64(1), nil
	}
	for _, want := range strings.Split(priv, ",") {
		want = strings.ToUpper(strings.TrimSpace(want))
		option := strings.HasSuffix(want, " WITH GRANT OPTION")
		want = strings.TrimSpace(strings.TrimSuffix(want, " WITH GRANT OPTION"))
		letter := ""
		for l, n := range map[string]string{"r": "SELECT", "a": "INSERT", "w": "UPDATE", "d": "DELETE", "D": "TRUNCATE",
			"x": "REFERENCES", "t": "TRIGGER", "U": "USAGE", "C": "CREATE"} {
			if n == want {
				letter = l
			}
		}
		if letter == "" {
			return nil, pgerror.New(pgerror.InvalidParameterValue, "unrecognized privilege type: \"%s\"", want)
		}
		if o.Owner == user || !option && o.holds(user, letter) || option && o.grantable(user, letter) {
			return int64(1), nil
		}
	}
	return int64(0), nil
}

// aclDefault is acldefault(objtype, owner): PostgreSQL's built-in ACL of
// an object kind for an owner, as aclitem[] text.
func (s *catalogState) aclDefault(objtype string, owner any) (any, error) {
	n, _ := toInt(owner)
	name := ""
	if s != nil && s.roles != nil {
		if roles := s.roles.Load(); roles != nil {
			for _, r := range *roles {
				if r.OID == n {
					name = r.Name
				}
			}
		}
	}
	if name == "" {
		switch n {
		case 10:
			name = "postgres"
		case 6171:
			name = "pg_database_owner"
		default:
			return nil, pgerror.New(pgerror.UndefinedObject, "role with OID %d does not exist", n)
		}
	}
	own := func(privs string) aclItem { return aclItem{grantee: name, grantor: name, privs: privs} }
	pub := func(privs string) aclItem { return aclItem{grantor: name, privs: privs} }
	var items []aclItem
	switch objtype {
	case "r":
		items = []aclItem{own("arwdDxt")}
	case "s":
		items = []aclItem{own("rwU")}
	case "n":
		items = []aclItem{own("UC")}
	case "f", "p":
		items = []aclItem{pub("X"), own("X")}
	case "T", "L":
		items = []aclItem{pub("U"), own("U")}
	case "d":
		items = []aclItem{pub("Tc"), own("CTc")}
	case "F", "S":
		items = []aclItem{own("U")}
	case "l":
		items = []aclItem{own("rw")}
	case "c":
		items = []aclItem{own("arwx")}
	default:
		return nil, pgerror.New(pgerror.InvalidParameterValue, "unrecognized object type abbreviation: %s", objtype)
	}
	return aclText(items), nil
}
