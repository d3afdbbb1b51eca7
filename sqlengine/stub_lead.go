//go:build pgraft_lead && !h4

package sqlengine

import (
	"context"
	"sync/atomic"

	sqlite3 "github.com/mattn/go-sqlite3"
)

type catalogState struct{ p atomic.Pointer[SchemaSnapshot] }

func (c *catalogState) Get() *SchemaSnapshot  { return c.p.Load() }
func (c *catalogState) Set(s *SchemaSnapshot) { c.p.Store(s) }

type SchemaSnapshot struct{}

func (s *SchemaSnapshot) Table(string) *TableInfo { return nil }

type queryer interface{}

func loadSchema(ctx context.Context, q queryer) (*SchemaSnapshot, error)      { return &SchemaSnapshot{}, nil }
func registerFunctions(c *sqlite3.SQLiteConn, st *catalogState) error        { return nil }
func createCatalogViews(c *sqlite3.SQLiteConn) error                         { return nil }
