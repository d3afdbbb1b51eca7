package sqlengine

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/pgraft/pgraft/pgwire/pgerror"
	"github.com/pgraft/pgraft/sqlengine/translate"
)

// roles.go is the role store (issue 14): PostgreSQL's roles, kept in
// _pgraft_roles and changed only through the log, so every node
// authenticates the same users. A password is stored as its SCRAM-SHA-256
// verifier, made on the leader before the change is proposed: the log never
// holds a plaintext password (the salt is random, so only the leader can
// make it). Clients cannot read the table (the sandbox's _pgraft prefix);
// the catalog views pg_authid, pg_roles and pg_user show it without
// passwords.

// rolesTableSQL creates the role store. oid is PostgreSQL's role oid:
// 16384 and up in creation order (10 is the bootstrap superuser's when it
// is named postgres, as in PostgreSQL).
const rolesTableSQL = `CREATE TABLE IF NOT EXISTS _pgraft_roles (
	name TEXT PRIMARY KEY, oid INTEGER NOT NULL UNIQUE, verifier TEXT,
	superuser INTEGER NOT NULL, login INTEGER NOT NULL,
	createrole INTEGER NOT NULL, createdb INTEGER NOT NULL) WITHOUT ROWID`

// RoleChange and RoleAction are translate's: the statement's change is
// the log's.
type (
	RoleChange = translate.RoleChange
	RoleAction = translate.RoleAction
)

const (
	RoleCreate = translate.RoleCreate
	RoleEnsure = translate.RoleEnsure
	RoleAlter  = translate.RoleAlter
	RoleRename = translate.RoleRename
	RoleDrop   = translate.RoleDrop
	RoleGrant  = translate.RoleGrant
	RoleRevoke = translate.RoleRevoke
)

// Role is a stored role.
type Role struct {
	Name                                   string
	OID                                    int64
	Verifier                               string // "" without a password
	Superuser, Login, CreateRole, CreateDB bool
}

// RoleOp is the log operation of a role change.
func RoleOp(c RoleChange) (Op, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return Op{}, fmt.Errorf("encode role change: %w", err)
	}
	return Op{Kind: OpRole, SQL: string(b)}, nil
}

// applyRole runs a role change on the write connection, with internal
// access. Its errors are the statement's, the same on every node.
func (e *Engine) applyRole(ctx context.Context, data string) (*ExecResult, error) {
	var c RoleChange
	if err := json.Unmarshal([]byte(data), &c); err != nil || c.Name == "" {
		return nil, pgerror.New(pgerror.InternalError, "malformed role change in the log")
	}
	var res *ExecResult
	err := e.withInternal(func() error {
		var err error
		res, err = e.applyRoleInternal(ctx, c)
		return err
	})
	return res, err
}

func (e *Engine) applyRoleInternal(ctx context.Context, c RoleChange) (*ExecResult, error) {
	if c.Action == RoleGrant || c.Action == RoleRevoke {
		return e.applyPrivilege(ctx, c) // acl.go
	}
	q := e.wconn
	var exists bool
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM _pgraft_roles WHERE name = ?`, c.Name).Scan(&exists); err != nil {
		return nil, fmt.Errorf("read role %s: %w", c.Name, err)
	}
	b := func(p *bool, def bool) int {
		if p != nil {
			def = *p
		}
		if def {
			return 1
		}
		return 0
	}
	switch c.Action {
	case RoleCreate, RoleEnsure:
		if exists {
			if c.Action == RoleEnsure {
				return &ExecResult{}, nil
			}
			return nil, pgerror.New(pgerror.DuplicateObject, "role %q already exists", c.Name)
		}
		oid := int64(16384)
		if c.Action == RoleEnsure && c.Name == "postgres" {
			oid = 10
		} else if err := q.QueryRowContext(ctx, `SELECT max(16384, coalesce(max(oid) + 1, 0)) FROM _pgraft_roles`).Scan(&oid); err != nil {
			return nil, fmt.Errorf("next role oid: %w", err)
		}
		var verifier any
		if c.Verifier != nil && *c.Verifier != "" {
			verifier = *c.Verifier
		}
		_, err := q.ExecContext(ctx, `INSERT INTO _pgraft_roles (name, oid, verifier, superuser, login, createrole, createdb)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, c.Name, oid, verifier,
			b(c.Superuser, false), b(c.Login, false), b(c.CreateRole, false), b(c.CreateDB, false))
		if err != nil {
			return nil, fmt.Errorf("create role %s: %w", c.Name, err)
		}
	case RoleAlter:
		if !exists {
			return nil, pgerror.New(pgerror.UndefinedObject, "role %q does not exist", c.Name)
		}
		set := func(col string, v any) error {
			_, err := q.ExecContext(ctx, `UPDATE _pgraft_roles SET `+col+` = ? WHERE name = ?`, v, c.Name)
			return err
		}
		var errs []error
		if c.Verifier != nil {
			var v any
			if *c.Verifier != "" {
				v = *c.Verifier
			}
			errs = append(errs, set("verifier", v))
		}
		for col, p := range map[string]*bool{"superuser": c.Superuser, "login": c.Login, "createrole": c.CreateRole, "createdb": c.CreateDB} {
			if p != nil {
				errs = append(errs, set(col, b(p, false)))
			}
		}
		if err := errors.Join(errs...); err != nil {
			return nil, fmt.Errorf("alter role %s: %w", c.Name, err)
		}
	case RoleRename:
		if !exists {
			return nil, pgerror.New(pgerror.UndefinedObject, "role %q does not exist", c.Name)
		}
		var taken bool
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM _pgraft_roles WHERE name = ?`, c.NewName).Scan(&taken); err != nil {
			return nil, fmt.Errorf("read role %s: %w", c.NewName, err)
		}
		if taken {
			return nil, pgerror.New(pgerror.DuplicateObject, "role %q already exists", c.NewName)
		}
		// As in PostgreSQL, the MD5/SCRAM salt does not depend on the name
		// for SCRAM, so the password survives the rename.
		if _, err := q.ExecContext(ctx, `UPDATE _pgraft_roles SET name = ? WHERE name = ?`, c.NewName, c.Name); err != nil {
			return nil, fmt.Errorf("rename role %s: %w", c.Name, err)
		}
		if err := e.renameRoleACL(ctx, c.Name, c.NewName); err != nil { // acl.go
			return nil, err
		}
	case RoleDrop:
		if !exists {
			if c.IfExists {
				return &ExecResult{}, nil // PostgreSQL: NOTICE role "x" does not exist, skipping
			}
			return nil, pgerror.New(pgerror.UndefinedObject, "role %q does not exist", c.Name)
		}
		deps, err := e.roleDependents(ctx, c.Name) // acl.go
		if err != nil {
			return nil, err
		}
		if len(deps) > 0 {
			return nil, pgerror.New(pgerror.DependentObjectsStillExist,
				"role \"%s\" cannot be dropped because some objects depend on it", c.Name).
				WithDetail(strings.Join(deps, "\n"))
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM _pgraft_roles WHERE name = ?`, c.Name); err != nil {
			return nil, fmt.Errorf("drop role %s: %w", c.Name, err)
		}
	default:
		return nil, pgerror.New(pgerror.InternalError, "unknown role change %q in the log", c.Action)
	}
	return &ExecResult{}, nil
}

// Role returns the stored role name as of the last applied entry; ok is
// false when there is none. It reads the engine's copy of the role store,
// not the database: logging in must not wait for a read connection, which
// clients can all be holding.
func (e *Engine) Role(name string) (r Role, ok bool) {
	if roles := e.roles.Load(); roles != nil {
		r, ok = (*roles)[name]
	}
	return r, ok
}

// RoleSecret is a secret every node derives alike from the role store:
// a hash of the password verifier of the oldest role that has one (its
// StoredKey and ServerKey are never shown to clients); nil when no role
// has a password. The server keys made-up verifiers of unknown users
// with it.
func (e *Engine) RoleSecret() []byte {
	roles := e.roles.Load()
	if roles == nil {
		return nil
	}
	var first *Role
	for _, r := range *roles {
		if r.Verifier != "" && (first == nil || r.OID < first.OID) {
			first = &r
		}
	}
	if first == nil {
		return nil
	}
	sum := sha256.Sum256([]byte("pgraft mock verifier key\x00" + first.Verifier))
	return sum[:]
}

// loadRoles reads the role store into the engine's copy. The caller holds
// the write connection with internal access (Open).
func (e *Engine) loadRoles(ctx context.Context) error {
	roles, err := e.readRoles(ctx)
	if err != nil {
		return err
	}
	e.roles.Store(&roles)
	return nil
}

// readRoles reads the role store on the write connection, which the caller
// holds with internal access.
func (e *Engine) readRoles(ctx context.Context) (map[string]Role, error) {
	rows, err := e.wconn.QueryContext(ctx, `SELECT name, oid, verifier, superuser, login, createrole, createdb FROM _pgraft_roles`)
	if err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	defer rows.Close()
	roles := make(map[string]Role)
	for rows.Next() {
		var r Role
		var verifier sql.NullString
		if err := rows.Scan(&r.Name, &r.OID, &verifier, &r.Superuser, &r.Login, &r.CreateRole, &r.CreateDB); err != nil {
			return nil, fmt.Errorf("read roles: %w", err)
		}
		r.Verifier = verifier.String
		roles[r.Name] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read roles: %w", err)
	}
	return roles, nil
}

// validRoleName refuses the names PostgreSQL reserves for itself.
func ValidRoleName(name string) error {
	if name == "" {
		return pgerror.New(pgerror.InvalidName, "zero-length delimited identifier")
	}
	if strings.HasPrefix(name, "pg_") {
		return pgerror.New(pgerror.ReservedName, "role name %q is reserved", name).
			WithDetail(`Role names starting with "pg_" are reserved.`)
	}
	switch name {
	case "public", "none":
		return pgerror.New(pgerror.ReservedName, "role name %q is reserved", name)
	}
	return nil
}
