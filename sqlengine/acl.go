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
